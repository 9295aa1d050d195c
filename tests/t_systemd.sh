#!/bin/sh
# t_systemd.sh — the service files: `make install` puts the unit (with
# @BINDIR@ replaced), sysusers.d and tmpfiles.d snippets in place; the unit
# passes `systemd-analyze verify`; `systemd-analyze security --offline=yes`
# rates it (score printed; must stay "OK" or better, <= 4.0); sysusers and
# tmpfiles create the user, groups and folders (modes, setgid outputs) in a
# scratch root.
BUILD=${ADM_BUILD:-build}
if ! command -v systemd-analyze >/dev/null 2>&1; then echo "SKIP systemd (systemd-analyze not installed)"; exit 0; fi
T=$(mktemp -d /tmp/admd-test-systemd.XXXXXX)
trap 'rm -rf "$T"' EXIT
. tests/lib.sh    # pass, fail, check

# ---- make install into a scratch DESTDIR ----
# -o: install what is built; never rebuild (or delete) the binaries under test.
if make -s -o "$BUILD/admd" -o "$BUILD/admctl" install BUILD="$BUILD" DESTDIR="$T/inst" PREFIX=/usr > "$T/install.log" 2>&1; then
  pass make_install
else
  fail make_install "$(tail -5 "$T/install.log")"
fi
U=$T/inst/usr/lib/systemd/system/admd.service
check unit_installed [ -f "$U" ]
check bindir_substituted sh -c "grep -q '^ExecStart=/usr/bin/admd ' '$U' && ! grep -q @BINDIR@ '$U'"
check sysusers_installed [ -f "$T/inst/usr/lib/sysusers.d/admd.conf" ]
check tmpfiles_installed [ -f "$T/inst/usr/lib/tmpfiles.d/admd.conf" ]
check binaries_installed [ -x "$T/inst/usr/bin/admd" ]
check timers_installed sh -c "grep -q '^ExecStart=/usr/bin/admctl prune ' '$T/inst/usr/lib/systemd/system/admd-prune.service' &&
  [ -f '$T/inst/usr/lib/systemd/system/admd-prune.timer' ] && [ -f '$T/inst/usr/lib/systemd/system/admd-metrics.timer' ]"
check default_file_installed grep -q '^ADMD_PRUNE_OPTS=' "$T/inst/etc/default/admd"
check completion_installed [ -f "$T/inst/usr/share/bash-completion/completions/admctl" ]
check man_installed [ -f "$T/inst/usr/share/man/man8/admd.8" ]
# an operator's edit of /etc/default/admd survives a reinstall and the uninstall
echo 'ADMD_OPTS="--batch 4"' >> "$T/inst/etc/default/admd"
make -s -o "$BUILD/admd" -o "$BUILD/admctl" install BUILD="$BUILD" DESTDIR="$T/inst" PREFIX=/usr > "$T/install2.log" 2>&1
make -s uninstall BUILD="$BUILD" DESTDIR="$T/inst" PREFIX=/usr > "$T/uninstall.log" 2>&1; rc=$?
left=$(cd "$T/inst" && find . -type f | sort | tr '\n' ' ')
check make_uninstall sh -c "[ $rc = 0 ] && [ '$left' = './etc/default/admd ' ] && grep -q 'batch 4' '$T/inst/etc/default/admd'"
[ "$left" = "./etc/default/admd " ] || echo "  left after uninstall: $left"
# PREFIX=/usr/local (the default): units under /usr/local/lib, sysusers/tmpfiles under /etc
make -s -o "$BUILD/admd" -o "$BUILD/admctl" install BUILD="$BUILD" DESTDIR="$T/loc" > "$T/install3.log" 2>&1
make -s uninstall BUILD="$BUILD" DESTDIR="$T/loc" > /dev/null 2>&1
check uninstall_local_prefix sh -c "[ -f '$T/loc/etc/default/admd' ] && [ \"\$(cd '$T/loc' && find . -type f | wc -l)\" = 1 ]"

# ---- verify (ExecStart must exist: point it at this build) ----
mkdir -p "$T/unit"
sed "s|@BINDIR@|$(cd "$BUILD" && pwd)|g" systemd/admd.service > "$T/unit/admd.service"
# --man=no: the man pages are checked by the docs, not installed on this machine.
if systemd-analyze verify --man=no "$T/unit/admd.service" > "$T/verify.log" 2>&1; then
  pass unit_verify
else
  fail unit_verify "$(cat "$T/verify.log")"
fi
# the prune and metrics services and their timers (shipped disabled: nothing enables them)
for u in admd-prune.service admd-prune.timer admd-metrics.service admd-metrics.timer; do
  sed "s|@BINDIR@|$(cd "$BUILD" && pwd)|g" systemd/$u > "$T/unit/$u"
done
if systemd-analyze verify --man=no "$T/unit/admd-prune.service" "$T/unit/admd-prune.timer" \
     "$T/unit/admd-metrics.service" "$T/unit/admd-metrics.timer" > "$T/verify2.log" 2>&1; then
  pass timer_units_verify
else
  fail timer_units_verify "$(cat "$T/verify2.log")"
fi
# the policy in the shipped /etc/default/admd is one admctl prune accepts
( . systemd/admd.default; "$BUILD/admctl" prune $ADMD_PRUNE_OPTS --help > /dev/null ) &&
  opts=$(. systemd/admd.default; echo "$ADMD_PRUNE_OPTS") &&
  tmpdb="$T/p/spool.db" && "$BUILD/admctl" init --no-model --db "$tmpdb" > /dev/null 2>&1 &&
  "$BUILD/admctl" prune $opts --dry-run --db "$tmpdb" > "$T/prune.log" 2>&1
check default_prune_policy_accepted grep -q "would prune 0 jobs" "$T/prune.log"
check unit_type_notify grep -q '^Type=notify' systemd/admd.service
check unit_environment_file sh -c "grep -q '^EnvironmentFile=-/etc/default/admd' systemd/admd.service &&
  grep -q '^ExecStart=@BINDIR@/admd .*\$ADMD_OPTS\$' systemd/admd.service && grep -q '^ADMD_OPTS=' systemd/admd.default"
check unit_cache_env sh -c "grep -q 'POCL_CACHE_DIR=%C/admd' systemd/admd.service && grep -q 'CUDA_CACHE_PATH=%C/admd' systemd/admd.service"

# ---- security exposure ----
systemd-analyze security --offline=yes --no-pager "$T/unit/admd.service" > "$T/sec.log" 2>&1
score=$(grep -o 'Overall exposure level for admd.service: [0-9.]*' "$T/sec.log" | awk '{print $NF}')
verdict=$(grep 'Overall exposure level' "$T/sec.log" | awk '{print $NF, $(NF-1)}' | cut -d' ' -f2)
echo "  systemd-analyze security --offline=yes: exposure $score $verdict"
grep '✗' "$T/sec.log" | sed 's/  */ /g; s/^/  /' | cut -c1-110
check security_score_ok awk -v s="$score" 'BEGIN { exit !(s != "" && s + 0 <= 4.0) }'

# ---- sysusers + tmpfiles in a scratch root ----
mkdir -p "$T/root/etc"
if systemd-sysusers --root="$T/root" "$(pwd)/systemd/admd.sysusers" > "$T/sysusers.log" 2>&1; then pass sysusers_apply
else fail sysusers_apply "$(cat "$T/sysusers.log")"; fi
check user_created grep -q '^admd:x:[0-9]*:[0-9]*:.*:/var/lib/admd:/usr/sbin/nologin' "$T/root/etc/passwd"
check render_group_member grep -q '^render:x:[0-9]*:admd' "$T/root/etc/group"
if systemd-tmpfiles --root="$T/root" --create "$(pwd)/systemd/admd.tmpfiles" > "$T/tmpfiles.log" 2>&1; then pass tmpfiles_apply
else fail tmpfiles_apply "$(cat "$T/tmpfiles.log")"; fi
check state_dir_mode [ "$(stat -c %a "$T/root/var/lib/admd")" = 770 ]
check outputs_setgid [ "$(stat -c %a "$T/root/var/lib/admd/outputs")" = 2770 ]
check cache_dir_mode [ "$(stat -c %a "$T/root/var/cache/admd")" = 750 ]
