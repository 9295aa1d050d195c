#!/bin/sh
# layers.sh [ROOT] — check the floor plan (README "Architecture"): every
# quoted #include of every .c/.h in a layer folder resolves, as the compiler
# resolves it (the including file's folder first, then the -I folders), to a
# file in the same folder or in a lower layer.  Prints one line per
# violation, "FILE:LINE: includes "HEADER" from FOLDER/, which LAYER/ may not
# see", and exits 1 if there was any; also refuses a header name present in
# two layer folders (the -I order would pick one silently).
#
# The rule, lowest first (a folder sees the folders before it; folders on
# one line do not see each other):
LAYERS='base
kernels
model
spool
output
fleet
daemon tools'
root=${1:-.}
cd "$root" || exit 2

rank() {   # rank FOLDER -> the line number of its layer, or nothing
  printf '%s\n' "$LAYERS" | awk -v f="$1" '{ for (i = 1; i <= NF; i++) if ($i == f) print NR }'
}
folders=$(printf '%s\n' "$LAYERS" | tr ' ' '\n')
bad=0

# One header name in one folder only.
dups=$(for f in $folders; do [ -d "$f" ] && ls "$f" | grep '\.h$'; done | sort | uniq -d)
for h in $dups; do
  echo "$h: header name in more than one layer folder:" $(for f in $folders; do [ -e "$f/$h" ] && printf '%s/ ' "$f"; done)
  bad=1
done

for f in $folders; do
  [ -d "$f" ] || continue
  r=$(rank "$f")
  for src in "$f"/*.c "$f"/*.h; do
    [ -f "$src" ] || continue
    grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$src" |
      sed 's/^\([0-9]*\):[^"]*"\([^"]*\)".*/\1 \2/' > "${TMPDIR:-/tmp}/layers.$$"
    while read -r line hdr; do
      found=
      for dir in "$f" $folders; do
        if [ -e "$dir/$hdr" ]; then found="$dir/$hdr"; break; fi
      done
      if [ -z "$found" ]; then
        echo "$src:$line: includes \"$hdr\", found in no layer folder"; bad=1; continue
      fi
      # The folder the file lives in, after ../ and ./ are resolved.
      real=$(realpath -m --relative-to=. "$found")
      to=${real%%/*}
      [ "$to" = "$real" ] && to=.
      [ "$to" = "$f" ] && continue
      tr=$(rank "$to")
      if [ -z "$tr" ] || [ "$tr" -ge "$r" ]; then
        echo "$src:$line: includes \"$hdr\" from $to/, which $f/ may not see"; bad=1
      fi
    done < "${TMPDIR:-/tmp}/layers.$$"
    rm -f "${TMPDIR:-/tmp}/layers.$$"
  done
done
exit $bad
