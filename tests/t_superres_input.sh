#!/bin/sh
# t_superres_input.sh — super-resolution of given images (jobs.input_path)
# through a real admd: a folder of PNGs and a single PNG inside the allowed
# input root are enlarged by superres_a (16 -> 32) and audit to identical
# bytes, their sizes and sha256s recorded (job_inputs) and checked by audit;
# every bad input (missing, outside the roots, wrong size, gray for
# an RGB model, not a PNG, truncated, huge, count mismatch, a base model)
# fails its own job with its own message, the daemon keeps running and
# nothing else in the spool changes.
. tests/daemon_common.sh
make_spool || { fail spool_create "admd could not create the spool"; exit 1; }
UPCFG=$(pwd)/tests/data/twostage/superres_a_16.config.txt
A=$ADMCTL
q "INSERT INTO models (name, unet_path, unet_config, default_respacing) VALUES ('c', '$R/unet_c/model.pt', '$R/unet_c/config.txt', '5');
   INSERT INTO models (name, unet_path, unet_config, default_respacing) VALUES ('up', '$R/superres_a/model.pt', '$UPCFG', '5');"

# real 16x16 RGB PNGs: three images of the base model (a one-stage job)
q "INSERT INTO jobs (model, count, seed) VALUES ('c', 3, 11)"
"$ADMD" --db "$DB" --drain $DEVICE_ARGS > "$T/a0.log" 2>&1
check base_images_made [ "$(q "SELECT state FROM jobs WHERE id = 1")" = done ]
IN=$T/in; OUT=$T/outside
mkdir -p "$IN/set" "$IN/bad" "$OUT"
q "SELECT path FROM outputs WHERE job_id = 1 ORDER BY idx" > "$T/pngs"
i=0; while read -r p; do cp "$p" "$IN/set/img$i.png"; i=$((i + 1)); done < "$T/pngs"
cp "$IN/set/img0.png" "$IN/one.png"
cp "$IN/set/img0.png" "$OUT/elsewhere.png"

# the bad inputs
python3 - "$IN/bad" <<'EOF'
import struct, sys, zlib
def png(path, w, h, ctype, chans):
    raw = b''.join(b'\0' + bytes([(x * 7 + y) % 256 for x in range(w * chans)]) for y in range(h))
    def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    data = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, ctype, 0, 0, 0)) \
         + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b'')
    open(path, 'wb').write(data)
d = sys.argv[1]
png(d + '/gray16.png', 16, 16, 0, 1)      # gray, the model takes RGB
png(d + '/rgb32.png', 32, 32, 2, 3)       # 32x32, the upsampler takes 16x16
open(d + '/huge_dims.png', 'wb').write(b'\x89PNG\r\n\x1a\n' + struct.pack('>I', 13) + b'IHDR'
     + struct.pack('>IIBBBBB', 100000, 100000, 8, 2, 0, 0, 0) + b'\0\0\0\0')
EOF
printf 'just some text, not an image\n' > "$IN/bad/text.png"
head -c 120 "$IN/one.png" > "$IN/bad/truncated.png"
truncate -s 70M "$IN/bad/huge.png"

start_admd "$T/a1.log" --input-root "$IN" || { fail daemon_start "$(cat "$T/a1.log")"; exit 1; }

# ---- good inputs ----
id=$("$A" submit --db "$DB" --model up --input "$IN/set" --seed 4 2> "$T/e")
check submit_folder [ "$id" = 2 ] && check folder_count_from_pngs [ "$(q "SELECT count FROM jobs WHERE id = 2")" = 3 ]
wait_for 180 state_is 2 done
check folder_job_done [ "$(q "SELECT state || ' ' || images_done FROM jobs WHERE id = 2")" = "done 3" ]
check folder_outputs_intact outputs_intact 2
png=$(q "SELECT path FROM outputs WHERE job_id = 2 AND idx = 0")
check output_32x32_rgb [ "$(od -An -tx1 -j16 -N10 "$png" | tr -d ' \n')" = "00000020000000200802" ]
check input_in_png grep -q "adm:input" "$png"
check input_in_provenance [ "$(q "SELECT input_path FROM provenance WHERE job_id = 2")" = "$IN/set" ]
"$A" audit --db "$DB" 2 > "$T/audit2" 2>&1; rc=$?
grep "audit:" "$T/audit2" | sed 's/^/  /'
check audit_given_images [ "$rc" = 0 ]
check audit_inputs_unchanged grep -q "inputs: 3 PNGs as the job read them" "$T/audit2"
i=0; ok_rows=1
while [ $i -lt 3 ]; do
  row=$(q "SELECT path || ' ' || bytes || ' ' || sha256 FROM job_inputs WHERE job_id = 2 AND idx = $i")
  [ "$row" = "$IN/set/img$i.png $(stat -c %s "$IN/set/img$i.png") $(sha256sum < "$IN/set/img$i.png" | cut -d' ' -f1)" ] || ok_rows=0
  i=$((i + 1))
done
check job_inputs_recorded [ "$ok_rows" = 1 -a "$(q "SELECT count(*) FROM job_inputs WHERE job_id = 2")" = 3 ]
q "INSERT INTO job_inputs (job_id, idx, path, bytes, sha256) VALUES (2, 9, '/x', 1, '$(printf '%064d' 0)')" 2> "$T/e"
check job_inputs_daemon_only grep -q "job_inputs: rows are written by the daemon only" "$T/e"
"$A" submit --db "$DB" --model up --input "$IN/one.png" --seed 4 > /dev/null 2> "$T/e"
wait_for 120 state_is 3 done
check single_png_done [ "$(q "SELECT state || ' ' || count FROM jobs WHERE id = 3")" = "done 1" ]
# image 0 of the folder and the single file: same input, seed 4, index 0 -> same pixels
# (the PNGs differ only in their adm:job and adm:input text chunks)
idat() { python3 -c "
import struct, sys, zlib
d = open(sys.argv[1], 'rb').read(); i = 8; out = b''
while i < len(d):
    n, t = struct.unpack('>I4s', d[i:i + 8])
    if t == b'IDAT': out += d[i + 8:i + 8 + n]
    i += 12 + n
sys.stdout.write(zlib.decompress(out).hex())" "$1"; }
check same_input_same_image [ "$(idat "$(q "SELECT path FROM outputs WHERE job_id = 2 AND idx = 0")")" = "$(idat "$(q "SELECT path FROM outputs WHERE job_id = 3")")" ]
check other_input_other_image [ "$(idat "$(q "SELECT path FROM outputs WHERE job_id = 2 AND idx = 1")")" != "$(idat "$(q "SELECT path FROM outputs WHERE job_id = 3")")" ]

# ---- bad inputs: each job fails with its reason, nothing else changes ----
snapshot() {
  q "SELECT * FROM jobs WHERE id <> $1 ORDER BY id; SELECT * FROM outputs ORDER BY id;
     SELECT * FROM stage_outputs ORDER BY id; SELECT * FROM models ORDER BY name; SELECT * FROM provenance WHERE job_id <> $1 ORDER BY job_id"
}
next=4
bad_input() {   # bad_input NAME PATH COUNT MODEL EXPECTED-TEXT
  name=$1 path=$2 count=$3 model=$4 want=$5
  snapshot $next > "$T/before"
  q "INSERT INTO jobs (model, input_path, count, seed) VALUES ('$model', '$path', $count, 1)"
  if wait_for 120 state_is $next failed; then
    err=$(q "SELECT error FROM jobs WHERE id = $next")
    snapshot $next > "$T/after"
    if ! echo "$err" | grep -q -- "$want"; then fail "$name" "error '$err', wanted '$want'"
    elif ! cmp -s "$T/before" "$T/after"; then fail "$name" "the spool changed beyond job $next"; diff "$T/before" "$T/after" | head
    elif [ "$(q "SELECT count(*) FROM outputs WHERE job_id = $next")" != 0 ]; then fail "$name" "outputs recorded"
    else pass "$name"; echo "    $err"; fi
  else
    fail "$name" "job $next is $(q "SELECT state FROM jobs WHERE id = $next")"
  fi
  next=$((next + 1))
}
bad_input input_missing "$IN/nothere.png" 1 up "No such file or directory"
bad_input input_outside_roots "$OUT/elsewhere.png" 1 up "outside the allowed input roots"
bad_input input_wrong_size "$IN/bad/rgb32.png" 1 up "rgb32.png is 32x32, the upsampler takes 16x16"
bad_input input_gray_for_rgb "$IN/bad/gray16.png" 1 up "gray16.png is gray (1 channel), the upsampler takes RGB"
bad_input input_not_png "$IN/bad/text.png" 1 up "text.png: not a PNG file"
bad_input input_truncated "$IN/bad/truncated.png" 1 up "truncated.png: truncated or corrupt PNG"
bad_input input_huge_file "$IN/bad/huge.png" 1 up "huge.png: 73400320 bytes, more than the"
bad_input input_huge_dims "$IN/bad/huge_dims.png" 1 up "is 100000x100000, the upsampler takes 16x16"
bad_input input_count_mismatch "$IN/set" 2 up "jobs.count is 2, but jobs.input_path .* holds 3 PNG files"
bad_input input_base_model "$IN/one.png" 1 c "needs a super-resolution model as jobs.model"
q "INSERT INTO jobs (model, input_path, count) VALUES ('up', 'relative/x.png', 1)" 2> "$T/e"
check input_path_absolute grep -q "jobs.input_path must be NULL or an absolute path" "$T/e"
"$A" submit --db "$DB" --model up --input "$IN/nothere" > /dev/null 2> "$T/e"
check submit_missing_input grep -q "nothere: No such file" "$T/e"
check daemon_kept_running kill -0 "$ADMD_PID"
"$A" submit --db "$DB" --model up --input "$IN/one.png" --seed 8 > /dev/null 2> "$T/e"
wait_for 120 state_is $next done
check good_job_after_bad_ones [ "$(q "SELECT state FROM jobs WHERE id = $next")" = done ]
stop_admd
check daemon_exit0 [ "$rc" = 0 ]
# an input that changed after the job ran: audit names it and fails
cp "$IN/set/img0.png" "$IN/set/img1.png"
"$A" audit --db "$DB" 2 > "$T/audit2b" 2>&1; rc=$?
check audit_names_changed_input sh -c "[ $rc != 0 ] && grep -q 'input 1: CHANGED since the job ran: $IN/set/img1.png' '$T/audit2b'"
