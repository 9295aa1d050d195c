#!/bin/sh
# t_admctl_generate.sh — `admctl generate` (one-shot, no daemon) with the
# real MNIST model (models/mnist), 2 images of 2 DDPM steps: its PNGs equal
# a real `admd --drain` job's with the same request but for the adm:job
# chunk's one digit (pixels and every other chunk the same); the embedded
# model without a spool gives the same bytes as the registered one; an
# existing PNG is refused unless --force; a bad model, class or folder is a
# clear "admctl:" error with a non-zero exit.
. tests/daemon_common.sh
need "$ADMCTL"
M=$(pwd)/models/mnist
if [ ! -f "$M/unet.safetensors" ]; then fail generate_mnist_model "models/mnist/unet.safetensors missing"; exit 1; fi
make_spool || { fail generate_spool "admd could not create the spool"; exit 1; }
# registered as `admctl init` registers it, class names included (the embedded model's are the same)
q "INSERT INTO models (name, unet_path, unet_config, classifier_path, classifier_config, num_classes, default_respacing, labels)
   VALUES ('mnist', '$M/unet.safetensors', '$M/unet.config.txt', '$M/classifier.safetensors', '$M/classifier.config.txt', 10, '2',
           replace('zero one two three four five six seven eight nine', ' ', char(10)));
   INSERT INTO jobs(model, class, count, scale, seed, respacing) VALUES ('mnist', 7, 2, 2.0, 5, '2');"
G="-c 7 -n 2 -s 5 --steps 2 --scale 2 $DEVICE_ARGS"

# registered model, from the spool (read-only)
"$ADMCTL" generate --db "$DB" -m mnist $G -o "$T/g" > "$T/g.out" 2> "$T/g.err"; rc=$?
check generate_exit0 [ "$rc" = 0 ]
check generate_two_pngs [ -s "$T/g/000000.png" -a -s "$T/g/000001.png" -a ! -e "$T/g/000002.png" ]
check generate_said_wrote grep -q "wrote 2 PNGs to $T/g" "$T/g.out"
check generate_progress_bar grep -q "generating.*100%.*4/4 steps" "$T/g.err"
check generate_chunks sh -c "grep -q 'adm:unet-sha256' '$T/g/000000.png' && grep -q 'adm:class' '$T/g/000000.png' &&
  grep -aq 'adm:class-name.seven' '$T/g/000000.png'"
check generate_spool_untouched [ "$(q "SELECT state FROM jobs WHERE id = 1")" = queued ]

# the same request as a daemon job: same bytes but adm:job (1 there, 0 here: one byte + the chunk's CRC)
"$ADMD" --db "$DB" --drain $DEVICE_ARGS > "$T/admd.log" 2>&1
check generate_daemon_job_done [ "$(q "SELECT state FROM jobs WHERE id = 1")" = done ]
for k in 0 1; do
  d=$(q "SELECT path FROM outputs WHERE job_id = 1 AND idx = $k")
  if [ -s "$d" ] && [ "$(wc -c < "$d")" = "$(wc -c < "$T/g/00000$k.png")" ] &&
     [ "$(cmp -l "$T/g/00000$k.png" "$d" | wc -l)" -le 5 ] &&
     [ "$(cmp -l "$T/g/00000$k.png" "$d" | head -1 | awk '{print $2 $3}')" = "6061" ]; then
    pass "generate_equals_daemon_image_$k"
  else
    fail "generate_equals_daemon_image_$k" "$d vs $T/g/00000$k.png: $(cmp -l "$T/g/00000$k.png" "$d" | head -3)"
  fi
done

# no spool at all: the embedded mnist (the same files) gives the same bytes
ADMD_DB= "$ADMCTL" generate -m mnist $G -o "$T/e" > "$T/e.out" 2> "$T/e.err"; rc=$?
if [ -f /var/lib/admd/spool.db ]; then echo "  (a system spool exists: the embedded-model run used it)"; fi
check generate_embedded_exit0 [ "$rc" = 0 ]
check generate_embedded_same_bytes sh -c "cmp -s '$T/g/000000.png' '$T/e/000000.png' && cmp -s '$T/g/000001.png' '$T/e/000001.png'"

# refuse to overwrite, unless --force
cp "$T/g/000001.png" "$T/keep.png"
"$ADMCTL" generate --db "$DB" -m mnist $G -o "$T/g" > "$T/o" 2> "$T/f.err"; rc=$?
check generate_refuses_overwrite sh -c "[ $rc != 0 ] && grep -q 'admctl: .*000000.png exists.*--force' '$T/f.err'"
"$ADMCTL" generate --db "$DB" --model mnist --class 7 --count 2 --seed 5 --steps 2 --scale 2 $DEVICE_ARGS \
  --out "$T/g" --force > "$T/o" 2> "$T/f.err"; rc=$?
check generate_force_long_options sh -c "[ $rc = 0 ] && cmp -s '$T/keep.png' '$T/g/000001.png'"

# bad input: clear message, non-zero exit, nothing written
bad() {   # bad NAME TEXT ARGS...
  name=$1; text=$2; shift 2
  "$ADMCTL" generate "$@" > "$T/o" 2> "$T/bad.err"; rc=$?
  if [ "$rc" != 0 ] && grep -q "^admctl: .*$text" "$T/bad.err" && ! grep -q "Segmentation\|Abort" "$T/bad.err"; then
    pass "$name"
  else
    fail "$name" "rc $rc: $(cat "$T/bad.err")"
  fi
}
: > "$T/afile"
bad generate_unknown_model "unknown model 'nosuch'" --db "$DB" -m nosuch -n 1 --steps 2 -o "$T/x"
ADMD_DB= bad generate_no_spool_model "no spool to find model 'nosuch'" -m nosuch -n 1 --steps 2 -o "$T/x"
bad generate_bad_class "class 10 is outside" --db "$DB" -m mnist -c 10 -n 1 --steps 2 -o "$T/x"
bad generate_dir_is_file "afile: not a folder" --db "$DB" -m mnist -n 1 --steps 2 -o "$T/afile"
bad generate_bad_count "--count '0'" --db "$DB" -m mnist -n 0 -o "$T/x"
bad generate_bad_sampler "unknown sampler 'euler'" --db "$DB" -m mnist --sampler euler -o "$T/x"
bad generate_needs_out "-o DIR is required" --db "$DB" -m mnist
check generate_bad_wrote_nothing [ -z "$(ls "$T/x" 2>/dev/null)" ]
