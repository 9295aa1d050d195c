#!/bin/sh
# t_features.sh — `admctl features` on the reference inception_a (weights
# unpacked from tests/data/reference/inception_a/inception.pth.xz into a
# temporary folder): pool3 / spatial / logits .npy files against the
# reference within 1e-3 of the largest reference value (compared with od
# and awk), the ADMD_INCEPTION variable, a one-channel .npy, the benchmark
# line, and bad input: a clear one-line error and a non-zero exit.
BUILD=${ADM_BUILD:-build}
A=$BUILD/admctl
R=tests/data/reference/inception_a
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
set -- ${ADMD_TEST_DEVICE:+--device "$ADMD_TEST_DEVICE"}
DEV="$*"

CMD=features
. tests/lib.sh

if [ ! -x "$A" ]; then echo "FAIL features_cli: $A not built"; exit 1; fi
if ! xz -dc $R/inception.pth.xz > "$tmp/inception.pth"; then echo "FAIL features_cli: cannot unpack the weights (xz-utils)"; exit 1; fi
W=$tmp/inception.pth

# float32 values of a .npy (v1: header length at bytes 8-9), one per line
values() {
  hl=$(od -A n -t u2 -j 8 -N 2 "$1" | tr -d ' ')
  od -A n -v -t f4 -j $((10 + hl)) "$1" | tr -s ' ' '\n' | sed '/^$/d'
}
# max |a - b| / max |b| below 1e-3, and as many values in both
close() {
  values "$1" > "$tmp/a"; values "$2" > "$tmp/b"
  paste "$tmp/a" "$tmp/b" | awk -v n="$(wc -l < "$tmp/b")" -v f="$(basename "$2")" '
    { d = $1 - $2; if (d < 0) d = -d; if (d > md) md = d; m = $2 < 0 ? -$2 : $2; if (m > mx) mx = m; c++ }
    END { e = mx > 0 ? md / mx : md; printf "    %s: %d values, max error %.2e of the largest value\n", f, c, e;
          exit !(c == n && c > 0 && e < 1e-3) }'
}

if "$A" features $DEV --inception "$W" --images $R/images.npy --pool "$tmp/p.npy" --spatial "$tmp/s.npy" \
     --logits "$tmp/l.npy" > "$tmp/o" 2> "$tmp/e" &&
   close "$tmp/p.npy" $R/pool3.npy && close "$tmp/s.npy" $R/spatial.npy && close "$tmp/l.npy" $R/logits.npy; then
  pass features_cli_reference; cat "$tmp/e"
else
  bad features_cli_reference "outputs differ from the reference"
fi

# ADMD_INCEPTION instead of --inception; pool3 only; same bytes again
if ADMD_INCEPTION="$W" "$A" features $DEV --images $R/images.npy --pool "$tmp/p2.npy" > "$tmp/o" 2> "$tmp/e" &&
   cmp -s "$tmp/p.npy" "$tmp/p2.npy"; then
  pass features_cli_env
else
  bad features_cli_env "ADMD_INCEPTION run differs or failed"
fi

# one channel, 40x52: a .npy written here (uint8 [2, 40, 52, 1])
hdr="{'descr': '|u1', 'fortran_order': False, 'shape': (2, 40, 52, 1), }"
pad=$((128 - 10 - ${#hdr} - 1))
{ printf '\223NUMPY\001\000\166\000'; printf '%s%*s\n' "$hdr" $pad ''; head -c 4160 /dev/urandom; } > "$tmp/gray.npy"
if "$A" features $DEV --inception "$W" --images "$tmp/gray.npy" --logits "$tmp/gl.npy" > "$tmp/o" 2> "$tmp/e" &&
   [ "$(values "$tmp/gl.npy" | wc -l)" -eq 2016 ]; then
  pass features_cli_one_channel
else
  bad features_cli_one_channel "no [2, 1008] logits for one-channel images"
fi

if "$A" features $DEV --inception "$W" --bench 2 --size 32 > "$tmp/o" 2> "$tmp/e" &&
   grep -q "images/s" "$tmp/o" && grep -q "50,000 images" "$tmp/o"; then
  pass features_cli_bench; cat "$tmp/o"
else
  bad features_cli_bench "no benchmark line"
fi

unset ADMD_INCEPTION
expect_fail features_cli_no_weights "ADMD_INCEPTION" --images $R/images.npy --pool "$tmp/x.npy"
expect_fail features_cli_no_output "at least one of" --inception "$W" --images $R/images.npy
expect_fail features_cli_missing_images "$tmp/nope.npy" --inception "$W" --images "$tmp/nope.npy" --pool "$tmp/x.npy"
expect_fail features_cli_float_images "must be uint8" --inception "$W" --images $R/pool3.npy --pool "$tmp/x.npy"
expect_fail features_cli_bad_weights "$R/images.npy" --inception $R/images.npy --images $R/images.npy --pool "$tmp/x.npy"
expect_fail features_cli_bad_bench "bench" --inception "$W" --bench 0
[ ! -e "$tmp/x.npy" ] && pass features_cli_nothing_written || fail features_cli_nothing_written "output written after an error"
