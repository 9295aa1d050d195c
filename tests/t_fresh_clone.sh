#!/bin/sh
# t_fresh_clone.sh — the newcomer's path, on this machine: clone the
# repository afresh (committed files only), run the README's first command
# (`make demo`: packages, build, spool, admd --drain, contact sheet), then
# check that every job is done, every PNG exists and decodes, and that the
# model's classifier recognises the requested digit in every image made at
# guidance scale >= 4.  (`make check`, the README's second command, is what
# runs this test, so it is not run again inside.)
# Long (a full build and 20 images): skipped under ADMD_QUICK=1.
if [ -n "$ADMD_QUICK" ]; then echo "SKIP fresh_clone (ADMD_QUICK: builds and samples from scratch)"; exit 0; fi
repo=$(git rev-parse --show-toplevel 2>/dev/null)
if [ -z "$repo" ]; then echo "SKIP fresh_clone (not inside a git checkout)"; exit 0; fi
if ! git -C "$repo" rev-parse --verify -q HEAD > /dev/null; then echo "SKIP fresh_clone (no commit yet)"; exit 0; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { echo "PASS $1"; }
bad() { echo "FAIL $1: $2"; }

git clone -q "$repo" "$tmp/admd" || { bad fresh_clone "git clone failed"; exit 1; }
# a newcomer's shell: none of the test runner's build settings
unset BUILD ADM_BUILD CC CFLAGS LDFLAGS MAKEFLAGS
cd "$tmp/admd" || exit 1
echo "  cloned $(git log -1 --format='%h %s')"

# the README shows the two commands
if grep -q '^ *make demo' README.md && grep -q '^ *make check' README.md; then ok fresh_clone_readme_commands
else bad fresh_clone_readme_commands "README.md does not show 'make demo' and 'make check'"; fi

start=$(date +%s)
if make demo > "$tmp/demo.log" 2>&1; then
  ok fresh_clone_make_demo
  echo "  make demo: $(( $(date +%s) - start )) s"
  tail -6 "$tmp/demo.log" | sed 's/^/  | /'
else
  bad fresh_clone_make_demo "exit status $?"
  tail -30 "$tmp/demo.log" | sed 's/^/  | /'
  exit 1
fi

A=build/admctl
DB=demo/spool.db
# every job done, every PNG present (decoding is checked below: the classifier reads them with libpng)
jobs=$("$A" list --db $DB --limit 0 | awk 'NR > 1 {print $1}' | sort -n | tr '\n' ' ')
notdone=$("$A" list --db $DB --limit 0 | awk 'NR > 1 && $2 != "done"' | wc -l)
pngs=0 missing=0
for j in $jobs; do
  for p in $("$A" show "$j" --db $DB --paths); do
    pngs=$((pngs + 1))
    [ -s "$p" ] || missing=$((missing + 1))
  done
done
if [ -n "$jobs" ] && [ "$notdone" -eq 0 ] && [ $pngs -eq 20 ] && [ $missing -eq 0 ] && [ -s demo/sheet.png ]; then
  ok fresh_clone_pngs_exist
else bad fresh_clone_pngs_exist "jobs '$jobs', $notdone not done, $pngs PNGs, $missing missing"; fi

# decode every PNG and judge it with the model's own classifier at t=0, grouped by scale
first=$(echo $jobs | cut -d' ' -f1) last=$(echo $jobs | awk '{print $NF}')
if "$A" sweep --db $DB --jobs "$first-$last" --out-dir "$tmp/judge" > "$tmp/judge.log" 2>&1; then
  ok fresh_clone_pngs_decode
  sed 's/^/  | /' "$tmp/judge.log"
else
  bad fresh_clone_pngs_decode "admctl sweep --jobs failed"; sed 's/^/  | /' "$tmp/judge.log"; exit 1
fi
# sweep.tsv: scale jobs images correct accuracy ...; every image at scale >= 4 recognised
judged=$(awk -F'\t' 'NR > 1 && $1 >= 4 {n += $3; c += $4} END {print n + 0, c + 0}' "$tmp/judge/sweep.tsv")
n=${judged% *} c=${judged#* }
if [ "$n" -ge 10 ] && [ "$n" -eq "$c" ]; then ok fresh_clone_digits_recognised
else bad fresh_clone_digits_recognised "$c of $n images at scale >= 4 recognised as the requested digit"; fi
exit 0
