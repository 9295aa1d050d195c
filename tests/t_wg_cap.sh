#!/bin/sh
# t_wg_cap.sh — work-group sizes come from the device's and kernels' limits:
# with the limit capped (ADMD_MAX_WORK_GROUP=16, then 1, as a GPU with
# small limits would report) the UNet forward of the reference cases
# (unet_a: scale-shift norm, ResBlock up/down, new attention order; unet_b:
# legacy attention order; unet_c: conv up/down) and the classifier's logits
# and input gradient (classifier_a) are the same bytes as uncapped.  Every
# reduction (GroupNorm and its backward: 64 virtual lanes, a fixed tree)
# has an order fixed by design, so not just parity but the bits hold; the
# uncapped outputs' parity with the reference is test_unet_parity's and
# test_classifier's.  A malformed cap is a clear error.
BUILD=${ADM_BUILD:-build}
A=$BUILD/admctl
R=tests/data/reference
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
DEV=${ADMD_TEST_DEVICE:+--device $ADMD_TEST_DEVICE}
. tests/lib.sh

if [ ! -x "$A" ]; then echo "FAIL wg_cap: $A not built"; exit 1; fi

for c in unet_a unet_b unet_c; do
  C=$R/$c
  y=""; [ -f $C/y.npy ] && y="--y $C/y.npy"
  for cap in "" 16 1; do
    if ! ADMD_MAX_WORK_GROUP=$cap "$A" unet $DEV --checkpoint $C/model.pt --config $C/config.txt --x $C/x.npy \
         --t $C/t.npy $y --out "$tmp/$c-$cap.npy" > "$tmp/o" 2> "$tmp/e"; then
      bad "wg_cap_$c${cap:+_$cap}" "admctl unet failed"; continue
    fi
    [ -z "$cap" ] && continue
    check "wg_cap_${c}_$cap" cmp "$tmp/$c-.npy" "$tmp/$c-$cap.npy"
  done
done

C=$R/classifier_a
for cap in "" 16 1; do
  if ADMD_MAX_WORK_GROUP=$cap "$A" classifier $DEV --checkpoint $C/model.pt --config $C/config.txt --x $C/x.npy \
       --t $C/t.npy --y $C/y.npy --logits "$tmp/l$cap.npy" --grad "$tmp/g$cap.npy" > "$tmp/o" 2> "$tmp/e"; then
    [ -n "$cap" ] && check "wg_cap_classifier_$cap" sh -c "cmp '$tmp/l.npy' '$tmp/l$cap.npy' && cmp '$tmp/g.npy' '$tmp/g$cap.npy'"
  else
    bad "wg_cap_classifier${cap:+_$cap}" "admctl classifier failed"
  fi
done

CMD=unet
C=$R/unet_c
ADMD_MAX_WORK_GROUP=zero expect_fail wg_cap_bad_value "ADMD_MAX_WORK_GROUP" --checkpoint $C/model.pt \
  --config $C/config.txt --x $C/x.npy --t $C/t.npy --out "$tmp/bad.npy"
