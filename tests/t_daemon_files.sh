#!/bin/sh
# t_daemon_files.sh — files admd opens because a spool row names them, with
# a real daemon and the sqlite3 CLI: a model path of /dev/zero or a FIFO
# (weights or config) fails its job within seconds and the next job runs; a
# config path pointing at a file with a secret first line fails without
# the secret reaching the spool or the log; a registered checkpoint with
# one flipped byte is refused by its sha256 (the unchanged file runs);
# SIGTERM while a big checkpoint is being read puts the job back in the
# queue without spending an attempt.
. tests/daemon_common.sh
make_spool || { fail spool_create "admd could not create the spool"; exit 1; }
mkfifo "$T/model.fifo"
printf 'SECRET-LINE-4c1d9e0b\nsecond line\n' > "$T/secret.conf"
q "INSERT INTO models(name, unet_path, unet_config) VALUES ('zero', '/dev/zero', '$R/unet_a/config.txt');
   INSERT INTO models(name, unet_path, unet_config) VALUES ('fifo', '$T/model.fifo', '$R/unet_a/config.txt');
   INSERT INTO models(name, unet_path, unet_config) VALUES ('fifocfg', '$R/unet_a/model.pt', '$T/model.fifo');
   INSERT INTO models(name, unet_path, unet_config) VALUES ('zerocfg', '$R/unet_a/model.pt', '/dev/zero');
   INSERT INTO models(name, unet_path, unet_config) VALUES ('secret', '$R/unet_a/model.pt', '$T/secret.conf');
   INSERT INTO jobs(model, respacing) VALUES ('zero', '4');
   INSERT INTO jobs(model, respacing) VALUES ('fifo', '4');
   INSERT INTO jobs(model, respacing) VALUES ('fifocfg', '4');
   INSERT INTO jobs(model, respacing) VALUES ('zerocfg', '4');
   INSERT INTO jobs(model, respacing) VALUES ('secret', '4');
   INSERT INTO jobs(model, respacing) VALUES ('a0', '4');"
start_admd "$T/admd.log" || { fail daemon_start "$(cat "$T/admd.log")"; exit 1; }
t0=$(date +%s)
check bad_files_fail_fast wait_for 30 sh -c "[ \$(sqlite3 -cmd '.timeout 5000' '$DB' \"SELECT count(*) FROM jobs WHERE id <= 5 AND state = 'failed'\") = 5 ]"
echo "  5 jobs with /dev/zero, FIFO and secret files failed within $(( $(date +%s) - t0 )) s"
err() { q "SELECT error FROM jobs WHERE id = $1"; }
for j in 1 2 3 4 5; do echo "  job $j: $(err $j)"; done
check zero_error_names_path_and_kind sh -c "sqlite3 '$DB' 'SELECT error FROM jobs WHERE id = 1' | grep -q '/dev/zero: a character device, not a regular file'"
check fifo_error_names_path_and_kind sh -c "sqlite3 '$DB' 'SELECT error FROM jobs WHERE id = 2' | grep -q 'model.fifo: a FIFO, not a regular file'"
check fifo_config_refused sh -c "sqlite3 '$DB' 'SELECT error FROM jobs WHERE id = 3' | grep -q 'model.fifo: a FIFO, not a regular file'"
check zero_config_refused sh -c "sqlite3 '$DB' 'SELECT error FROM jobs WHERE id = 4' | grep -q '/dev/zero: a character device'"
check secret_config_named sh -c "sqlite3 '$DB' 'SELECT error FROM jobs WHERE id = 5' | grep -q 'secret.conf: not a valid model config'"
check next_job_runs wait_for 60 state_is 6 done
check daemon_alive kill -0 "$ADMD_PID"
# The secret is nowhere: not in any table (dump), not in the database files, not in the log.
check secret_not_in_spool sh -c "! sqlite3 '$DB' .dump | grep -q SECRET"
check secret_not_in_db_files sh -c "! cat '$DB' '$DB-wal' 2>/dev/null | grep -aq SECRET"
check secret_not_in_log sh -c "! grep -q SECRET '$T/admd.log'"

# ---- a registered checkpoint: used while its sha256 matches, refused after one flipped byte ----
cp "$R/unet_a/model.pt" "$T/flip.pt"
sha=$(sha256sum "$T/flip.pt" | cut -d' ' -f1)
q "INSERT INTO models(name, unet_path, unet_config, unet_sha256) VALUES ('flip', '$T/flip.pt', '$R/unet_a/config.txt', '$sha');
   INSERT INTO jobs(model, respacing) VALUES ('flip', '4');"
check registered_checkpoint_runs wait_for 60 state_is 7 done
off=$(( $(stat -c %s "$T/flip.pt") / 2 ))
b=$(od -An -tu1 -j "$off" -N1 "$T/flip.pt" | tr -d ' ')
printf "$(printf '\\%03o' $(( b ^ 1 )))" | dd of="$T/flip.pt" bs=1 seek="$off" conv=notrunc 2>/dev/null
check byte_flipped [ "$(sha256sum "$T/flip.pt" | cut -d' ' -f1)" != "$sha" ]
q "INSERT INTO jobs(model, respacing) VALUES ('flip', '4')"
check flipped_checkpoint_refused wait_for 60 state_is 8 failed
echo "  job 8: $(err 8)"
check flipped_error_says_sha256 sh -c "sqlite3 '$DB' 'SELECT error FROM jobs WHERE id = 8' | grep -q 'flip.pt: sha256 .* does not match the registered'"
check registered_hash_kept [ "$(q "SELECT unet_sha256 FROM models WHERE name = 'flip'")" = "$sha" ]
check unregistered_hash_recorded [ "$(q "SELECT length(unet_sha256) FROM models WHERE name = 'a0'")" = 64 ]

# ---- SIGTERM while a big checkpoint is read: requeued, attempt not spent ----
# A sparse 4 GB file with a zip signature: read and hashed at about a GB/s,
# so the signal arrives mid-read; nothing of it is kept after the stop.
printf 'PK\003\004' > "$T/huge.pt"
truncate -s 4G "$T/huge.pt"
q "INSERT INTO models(name, unet_path, unet_config) VALUES ('huge', '$T/huge.pt', '$R/unet_a/config.txt');
   INSERT INTO jobs(model, respacing) VALUES ('huge', '4');"
wait_for 60 grep -q "job 9: started" "$T/admd.log"
sleep 0.3
stop_admd
echo "  SIGTERM during the read: exit $rc after $secs s"
check sigterm_read_exit0 [ "$rc" = 0 ]
check sigterm_read_quick [ "$secs" -le 5 ]
check sigterm_read_requeued [ "$(q "SELECT state || ' ' || attempts || ' ' || coalesce(error, '-') FROM jobs WHERE id = 9")" = "queued 0 -" ]
check sigterm_read_logged grep -q "job 9: stopped by signal, back in the queue" "$T/admd.log"
