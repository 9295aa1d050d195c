#!/bin/sh
# t_fleet.sh — a fleet of boxes on a real nats-server (loopback, a free
# port, JetStream file storage in a temp folder, max_payload 1024 so that
# PNGs and provenance travel in parts), all started and stopped here:
#   A  three admd boxes, one long job and 60 one-image jobs: the box running
#      the long job is killed with -9 (another box redoes it once the ack
#      deadline passes; the killed box, restarted, does not), nats-server is
#      restarted mid-run; every job done exactly once over the three spools,
#      every image collected once with its sha256 checked, collect idempotent
#   B  a box whose job ends while the server is down, restarted with the
#      server still down, works its local queue and publishes when the
#      server comes back
#   C  malformed job messages (bad JSON, unknown key, wrong type, unknown
#      model, values the schema refuses) refused with their reason on
#      adm.errors while the queue keeps flowing
# FLEET_MAX_PAYLOAD overrides 1024 (the README's overhead figures use the
# server's default, 1048576).
. tests/programs.sh
M=$(pwd)/models/mnist
need "$ADMD" "$ADMCTL" nats-server sqlite3

T=$(mktemp -d /tmp/admd-fleet.XXXXXX)
NATS_PID=""; PIDS=""
cleanup() {
  for p in $PIDS $NATS_PID; do kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null
  [ -n "$KEEP_T" ] || rm -rf "$T"
}
trap cleanup EXIT


# ---- the server
printf 'max_payload: %s\n' "${FLEET_MAX_PAYLOAD:-1024}" > "$T/nats.conf"
PORT=""; NATS_N=0
start_nats() {
  tries=0
  while :; do
    [ -n "$PORT" ] || PORT=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000 ))
    NATS_N=$((NATS_N + 1))
    nats-server -js -a 127.0.0.1 -p "$PORT" -sd "$T/js" -c "$T/nats.conf" > "$T/nats.$NATS_N.log" 2>&1 &
    NATS_PID=$!
    if wait_for 20 grep -q "Server is ready" "$T/nats.$NATS_N.log"; then return 0; fi
    kill -9 "$NATS_PID" 2>/dev/null; wait "$NATS_PID" 2>/dev/null; NATS_PID=""
    tries=$((tries + 1))
    [ $tries -ge 5 ] && { cat "$T/nats.$NATS_N.log"; return 1; }
    [ "$1" = again ] || PORT=""        # a busy port: another one (a restart keeps its port)
    sleep 1
  done
}
stop_nats() { kill -TERM "$NATS_PID"; wait "$NATS_PID" 2>/dev/null; NATS_PID=""; }
start_nats || { echo "FAIL fleet_nats_start: nats-server did not start"; exit 1; }
URL=nats://127.0.0.1:$PORT

# ---- the boxes: box N has the spool $T/boxN/spool.db with the MNIST model
# (unconditional, 2 DDPM steps unless a job asks for more)
db() { echo "$T/box$1/spool.db"; }
q() { d=$1; shift; sqlite3 -cmd ".timeout 10000" "$(db "$d")" "$@"; }
make_box() {
  mkdir -p "$T/box$1"
  "$ADMD" --db "$(db "$1")" --drain $DEVICE_ARGS > "$T/box$1.init.log" 2>&1 || { cat "$T/box$1.init.log"; return 1; }
  q "$1" "INSERT INTO models (name, unet_path, unet_config, default_respacing)
          VALUES ('mnist', '$M/unet.safetensors', '$M/unet.config.txt', '2');"
}
# start_box N LOGTAG: admd --nats in the background, its pid in BOXn; waits for "ready"
start_box() {
  "$ADMD" --db "$(db "$1")" $DEVICE_ARGS --nats "$URL" --lease 20 --poll 1 --verbose > "$T/box$1.$2.log" 2>&1 &
  eval "BOX$1=$!"
  PIDS="$PIDS $!"
  wait_for 60 grep -q "ready:" "$T/box$1.$2.log"
}
stop_box() { eval "p=\$BOX$1"; kill -TERM "$p"; wait "$p"; }
submit() { "$ADMCTL" fleet submit --nats "$URL" --model mnist "$@"; }
# collect into $T/out: prints collect's line; status in crc
collect() { "$ADMCTL" fleet collect --nats "$URL" --out "$T/out" > "$T/collect.out" 2> "$T/collect.err"; crc=$?; }
ends() { sqlite3 "$T/out/fleet.db" "SELECT count(*) FROM fleet_ends WHERE state = 'done'" 2>/dev/null || echo 0; }
collected_upto() { collect; [ "$(ends)" -ge "$1" ]; }
# done_ids: the message ids of jobs done, over every box's spool
done_ids() {
  for n in 1 2 3; do [ -f "$(db $n)" ] && q $n "SELECT i.msg_id FROM fleet_inbox i JOIN jobs j ON j.id = i.job_id WHERE j.state = 'done'"; done
}
running_box() {   # the box running the fleet job $1 at step >= 3, if any
  for n in 1 2 3; do
    [ "$(q $n "SELECT count(*) FROM fleet_inbox i JOIN jobs j ON j.id = i.job_id WHERE i.msg_id = '$1'
                 AND j.state = 'running' AND j.step >= 3")" = 1 ] && { echo $n; return 0; }
  done
  return 1
}

for n in 1 2 3; do make_box $n || { echo "FAIL fleet_box_spool: admd could not create spool $n"; exit 1; }; done

# refusals before anything runs: a credentials file others may read, options
# without --nats, no server to talk to (a clear message, exit 1 or 2)
printf 'not a real creds file\n' > "$T/open.creds"; chmod 644 "$T/open.creds"
"$ADMCTL" fleet status --nats "$URL" --nats-creds "$T/open.creds" > /dev/null 2> "$T/e"; rc=$?
check fleet_creds_open_refused sh -c "[ $rc = 1 ] && grep -q 'readable by others' '$T/e'"
"$ADMD" --db "$(db 1)" --nats-creds "$T/open.creds" > /dev/null 2> "$T/e"; rc=$?
check fleet_admd_creds_need_nats sh -c "[ $rc = 2 ] && grep -q 'need --nats URL' '$T/e'"
"$ADMCTL" fleet submit --nats nats://127.0.0.1:1 --model mnist > /dev/null 2> "$T/e"; rc=$?
check fleet_submit_no_server sh -c "[ $rc = 1 ] && grep -q '^admctl: nats://127.0.0.1:1' '$T/e'"

# ================================================================ A
# The first submit creates the queue with a 6 s ack deadline (short for the test).
LONG=$(submit --respacing 100 --nats-ack-wait 6) || { echo "FAIL fleet_submit: $LONG"; exit 1; }
echo "$LONG" > "$T/ids"
for n in 1 2 3; do start_box $n a || { echo "FAIL fleet_box_start: box $n"; cat "$T/box$n.a.log"; exit 1; }; done
if wait_for 120 running_box "$LONG"; then
  K=$(running_box "$LONG")
  eval "kp=\$BOX$K"
  kill -9 "$kp"; wait "$kp" 2>/dev/null
  t_kill=$(date +%s)
  pass fleet_long_job_running
else
  fail fleet_long_job_running "no box ran the long job"; K=0
fi
i=0
while [ $i -lt 60 ]; do submit >> "$T/ids" || break; i=$((i + 1)); done
check fleet_submit_60 [ "$(wc -l < "$T/ids")" = 61 ]

# nats-server restarted mid-run, as soon as the 60 are queued
before=$(done_ids | wc -l)
stop_nats; sleep 1
start_nats again || { echo "FAIL fleet_nats_restart: nats-server did not come back"; exit 1; }
echo "  nats-server restarted when $before of 61 jobs were done"

# the killed box's job is redone by another box once the deadline passes
other_done() {
  for n in 1 2 3; do
    [ "$n" = "$K" ] && continue
    [ "$(q $n "SELECT count(*) FROM fleet_inbox i JOIN jobs j ON j.id = i.job_id WHERE i.msg_id = '$LONG' AND j.state = 'done'")" = 1 ] && return 0
  done
  return 1
}
if wait_for 180 other_done; then
  pass fleet_killed_job_redone
  taken=$(for n in 1 2 3; do [ "$n" = "$K" ] || q $n "SELECT CAST(strftime('%s', received_at) AS INTEGER) FROM fleet_inbox WHERE msg_id = '$LONG'"; done | sort -n | head -1)
  echo "  long job taken by another box $(( taken - t_kill )) s after the kill -9 (ack deadline 6 s), done $(( $(date +%s) - t_kill )) s after (100 steps)"
else fail fleet_killed_job_redone "the killed box's job was not done by another box"; fi

# the killed box comes back: its half-done job is released there (not redone)
[ "$K" != 0 ] && start_box "$K" a2
if wait_for 300 collected_upto 61; then pass fleet_all_collected; else fail fleet_all_collected "$(ends) of 61 jobs collected: $(cat "$T/collect.out" "$T/collect.err")"; fi
check fleet_collect_sha_ok [ "$crc" = 0 ]
done_ids | sort > "$T/done_ids"
check fleet_each_job_done_once [ "$(wc -l < "$T/done_ids")" = 61 ] && [ -z "$(uniq -d "$T/done_ids")" ]
check fleet_none_lost [ "$(sort "$T/ids" | comm -3 - "$T/done_ids" | wc -l)" = 0 ]
if [ "$K" != 0 ]; then
  check fleet_killed_box_released [ "$(q "$K" "SELECT j.state || ' ' || i.state FROM fleet_inbox i JOIN jobs j ON j.id = i.job_id WHERE i.msg_id = '$LONG'")" = "cancelled released" ]
fi
check fleet_central_rows [ "$(sqlite3 "$T/out/fleet.db" "SELECT count(*), count(DISTINCT job) FROM fleet_results")" = "61|61" ]
# every collected file has its sha256, and it is the box's own record of the image
sqlite3 "$T/out/fleet.db" "SELECT job || ' ' || sha256 || ' ' || path FROM fleet_results" > "$T/central"
bad=0
while read -r job sha path; do
  [ "$(sha256sum "$path" | cut -d' ' -f1)" = "$sha" ] || bad=$((bad + 1))
  box_sha=$(for n in 1 2 3; do q $n "SELECT u.sha256 FROM fleet_inbox i JOIN jobs j ON j.id = i.job_id JOIN outputs u ON u.job_id = j.id WHERE i.msg_id = '$job' AND j.state = 'done'"; done)
  [ "$box_sha" = "$sha" ] || bad=$((bad + 1))
done < "$T/central"
check fleet_files_match_sha256 [ "$bad" = 0 ]
check fleet_provenance_json [ "$(ls "$T"/out/*/provenance.json | wc -l)" = 61 ]
collect
check fleet_collect_idempotent grep -q "^collected 0 new images and 0 job ends" "$T/collect.out"
"$ADMCTL" fleet status --nats "$URL" > "$T/status.out" 2>&1
check fleet_queue_drained grep -q "0 pending (not delivered yet), 0 in flight" "$T/status.out"
check fleet_status_boxes [ "$(grep -c '^[^ ]*:[0-9]*:[0-9a-f]* ' "$T/status.out")" -ge 3 ]
# the boxes' table for scripts: rows only on stdout (11 fields), the report on stderr
"$ADMCTL" fleet status --nats "$URL" --raw --noheadings > "$T/raw.out" 2> "$T/raw.err"
check fleet_status_raw awk 'NF != 11 || $1 !~ /^[^ ]*:[0-9]*:[0-9a-f]*$/ || $2 !~ /^[0-9]+$/ { bad = 1 } END { exit bad || NR < 3 }' "$T/raw.out"
check fleet_status_raw_prose sh -c "grep -q '0 pending (not delivered yet)' '$T/raw.err' && ! grep -q pending '$T/raw.out'"
# overhead: result messages and bytes per job, publishing delay after the image was recorded
for n in 1 2 3; do q $n "SELECT count(*), sum(messages), sum(bytes) FROM fleet_outbox WHERE sent_at IS NOT NULL"; done |
  awk -F'|' '{ r += $1; m += $2; b += $3 } END { printf "  results: %d outbox rows, %d messages, %d payload bytes (%.1f messages, %.0f bytes per job)\n", r, m, b, m / 61, b / 61 }'
for n in 1 2 3; do q $n "SELECT (julianday(o.sent_at) - julianday(u.created_at)) * 86400000 FROM fleet_outbox o
                          JOIN outputs u ON u.job_id = o.job_id AND u.idx = o.image_index WHERE o.kind = 'image'"; done |
  sort -n | awk '{ v[NR] = $1 } END { if (NR) printf "  image recorded -> published: median %.1f ms, max %.1f ms (%d images, nats restart included)\n", v[int((NR + 1) / 2)], v[NR], NR }'
for n in 1 2 3; do [ -n "$(eval echo \$BOX$n)" ] && { eval "p=\$BOX$n"; kill -0 "$p" 2>/dev/null && stop_box $n; }; done

# ================================================================ B
A_ID=$(submit --respacing 60)
B_ID=$(submit)
start_box 1 b
a_running() { [ "$(q 1 "SELECT j.state FROM fleet_inbox i JOIN jobs j ON j.id = i.job_id WHERE i.msg_id = '$A_ID'")" = running ]; }
check fleet_outage_job_started wait_for 120 a_running
stop_nats
a_done() { [ "$(q 1 "SELECT j.state FROM fleet_inbox i JOIN jobs j ON j.id = i.job_id WHERE i.msg_id = '$A_ID'")" = done ]; }
check fleet_outage_job_finishes wait_for 120 a_done
check fleet_outage_results_wait [ "$(q 1 "SELECT count(*) FROM fleet_outbox o JOIN fleet_inbox i ON i.job_id = o.job_id WHERE i.msg_id = '$A_ID' AND o.sent_at IS NULL")" -ge 1 ]
stop_box 1
start_box 1 b2; check fleet_starts_with_server_down [ $? = 0 ]
LOCAL=$(q 1 "INSERT INTO jobs (model, count) VALUES ('mnist', 1) RETURNING id")
local_done() { [ "$(q 1 "SELECT state FROM jobs WHERE id = $LOCAL")" = done ]; }
check fleet_local_queue_while_down wait_for 120 local_done
start_nats again || { echo "FAIL fleet_nats_restart: nats-server did not come back"; exit 1; }
have() { collect; [ "$(sqlite3 "$T/out/fleet.db" "SELECT count(*) FROM fleet_ends WHERE state = 'done' AND job IN ('$A_ID', '$B_ID')")" = 2 ]; }
check fleet_published_after_outage wait_for 120 have
check fleet_outage_collect_ok [ "$crc" = 0 ]
check fleet_outage_once [ "$(q 1 "SELECT count(*) FROM fleet_inbox i JOIN jobs j ON j.id = i.job_id WHERE i.msg_id IN ('$A_ID', '$B_ID') AND j.state = 'done'")" = 2 ]
check fleet_outbox_empty [ "$(q 1 "SELECT count(*) FROM fleet_outbox WHERE sent_at IS NULL")" = 0 ]

# ================================================================ C
jobs_before=$(q 1 "SELECT count(*) FROM jobs")
msg() { printf '%s' "$1" > "$T/msg.json"; "$ADMCTL" fleet submit --nats "$URL" --message "$T/msg.json" > /dev/null; }
msg '{"model": "mnist", "count": '
msg '{"model": "mnist", "colour": 3}'
msg '{"model": "mnist", "eta": "high"}'
msg '{"model": "nosuchmodel"}'
msg '{"model": "mnist", "count": 0}'
msg '{"model": "mnist", "respacing": "fast"}'
printf '%s' '{"model": "mnist", "seed": 7}' > "$T/msg.json"
GOOD=$("$ADMCTL" fleet submit --nats "$URL" --message "$T/msg.json")
good() { collect; [ "$(sqlite3 "$T/out/fleet.db" "SELECT count(*) FROM fleet_ends WHERE job = '$GOOD' AND state = 'done'")" = 1 ]; }
check fleet_queue_flows_after_refusals wait_for 120 good
"$ADMCTL" fleet status --nats "$URL" --errors 10 > "$T/status.out" 2>&1
check fleet_refused_count grep -q "^refused job messages: 6" "$T/status.out"
check fleet_refused_bad_json grep -q '"reason":"bad JSON' "$T/status.out"
check fleet_refused_unknown_key grep -q "unknown key 'colour'" "$T/status.out"
check fleet_refused_type grep -q "'eta' must be a number" "$T/status.out"
check fleet_refused_unknown_model grep -q "jobs.model: unknown model" "$T/status.out"
check fleet_refused_schema_count grep -q "jobs.count must be" "$T/status.out"
check fleet_refused_schema_respacing grep -q "jobs.respacing must be" "$T/status.out"
check fleet_refused_no_job_rows [ "$(q 1 "SELECT count(*) FROM jobs")" = $((jobs_before + 1)) ]
echo "  intake (stored by the server -> in the idle box's spool): $(q 1 "SELECT printf('%.1f ms', (julianday(i.received_at) - julianday(i.published_at)) * 86400000) FROM fleet_inbox i WHERE msg_id = '$GOOD'")"
grep -h "refused:" "$T/status.out" | head -3 | cut -c1-200 | sed 's/^/ /'
stop_box 1
check fleet_box_clean_stop [ $? = 0 ]
stop_nats
