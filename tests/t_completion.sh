#!/bin/sh
# t_completion.sh — completion/admctl in a real bash: commands, a command's
# options (from its --help), model names from the spool the line names,
# --state values, file names.
BUILD=${ADM_BUILD:-build}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. tests/lib.sh
if ! command -v bash > /dev/null; then echo "FAIL completion: bash missing"; exit 1; fi
"$BUILD/admctl" init --db "$T/s.db" > /dev/null 2>&1 || fail completion_init "admctl init"
touch "$T/picture-one.png"
PATH=$(cd "$BUILD" && pwd):$PATH bash -c '
. completion/admctl
comp() { COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); _admctl; echo "${COMPREPLY[*]}"; }
echo "cmd: $(comp admctl su)"
echo "cmds: $(comp admctl "")"
echo "opt: $(comp admctl submit --cou)"
echo "prune: $(comp admctl prune --dry)"
echo "model: $(comp admctl submit --db "$1/s.db" --model "")"
echo "model=: $(comp admctl submit --db="$1/s.db" -m mn)"
echo "state: $(comp admctl list --state f)"
echo "file: $(comp admctl sheet 1 --out "$1/picture-o")"
' sh "$T" > "$T/out" 2>&1
check completion_command grep -qx "cmd: submit" "$T/out"
check completion_all_commands sh -c "grep '^cmds: ' '$T/out' | grep -q ' watch ' && grep '^cmds: ' '$T/out' | grep -q ' prune '"
check completion_option grep -qx "opt: --count" "$T/out"
check completion_prune_option grep -qx "prune: --dry-run" "$T/out"
check completion_model grep -qx "model: mnist" "$T/out"
check completion_model_db_equals grep -qx "model=: mnist" "$T/out"
check completion_state grep -qx "state: failed" "$T/out"
check completion_file grep -qx "file: $T/picture-one.png" "$T/out"
[ -n "$(grep -v '^[a-z=]*: ' "$T/out")" ] && { echo "  unexpected output:"; cat "$T/out"; }
true
