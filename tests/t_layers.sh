#!/bin/sh
# t_layers.sh — the floor plan holds (tools/layers.sh on this tree), and the
# checker catches what it must: a lower layer including from a higher one,
# one of two sibling layers including from the other, a header that
# resolves nowhere and a header name in two folders, each reported with
# file, line and header.
. tests/lib.sh
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

sh tools/layers.sh . > "$T/out" 2>&1; rc=$?
if [ $rc -eq 0 ] && [ ! -s "$T/out" ]; then pass layers_tree
else fail layers_tree "exit $rc: $(head -c 600 "$T/out")"; fi

# A small tree that breaks each rule once.
mk() { mkdir -p "$T/bad/$(dirname "$1")"; printf '%s\n' "$2" > "$T/bad/$1"; }
mk base/util.h '#include <stdio.h>'
mk kernels/ops.h '#include "util.h"'
mk model/unet.c '#include "ops.h"
#include "unet.h"'
mk model/unet.h '/* fine */'
mk spool/spool.h '#include "util.h"'
mk output/png_file.h '#include "spool.h"'
mk base/files.c '#include "util.h"

#include "unet.h"'
mk daemon/admd.c '#include "admctl.h"'
mk tools/admctl.h '#include "png_file.h"'
mk tools/cmd_x.c '#include "nowhere.h"'
mk kernels/noise.cl '/* kernel */'
mk model/philox.c '#include "../kernels/noise.cl"'
mk spool/dup.h ''
mk output/dup.h ''
sh tools/layers.sh "$T/bad" > "$T/bad.out" 2>&1; rc=$?
check layers_bad_exit [ $rc -eq 1 ]
check layers_bad_up grep -q '^base/files.c:3: includes "unet.h" from model/, which base/ may not see$' "$T/bad.out"
check layers_bad_sibling grep -q '^daemon/admd.c:1: includes "admctl.h" from tools/, which daemon/ may not see$' "$T/bad.out"
check layers_bad_missing grep -q '^tools/cmd_x.c:1: includes "nowhere.h", found in no layer folder$' "$T/bad.out"
check layers_bad_dup grep -q '^dup.h: header name in more than one layer folder: spool/ output/' "$T/bad.out"
# What is allowed stays quiet: downward includes, ../ paths, own folder.
n=$(wc -l < "$T/bad.out")
if [ "$n" -eq 4 ]; then pass layers_bad_only
else fail layers_bad_only "$n lines, wanted 4: $(cat "$T/bad.out")"; fi
