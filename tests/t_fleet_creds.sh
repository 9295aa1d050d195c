#!/bin/sh
# t_fleet_creds.sh — --nats-creds against a real nats-server in operator
# (JWT) mode: tests/nats_creds.py makes an operator, accounts (FLEET with
# JetStream, NOJS without) and users with real ed25519 nkeys and signed JWTs,
# and a ROGUE account of another operator; the server trusts the operator and
# preloads the accounts (resolver MEMORY).  A box started with the FLEET
# user's creds takes and finishes a job that `admctl fleet submit --nats-creds`
# queued, and collect gets its image.  Wrong credentials are refused with the
# problem named and a non-zero exit, by admctl and by admd: another
# operator's user, an account without JetStream, no creds at all, a file
# others can read, a missing file, a file that is not a creds file.
. tests/programs.sh
need "$ADMD" "$ADMCTL" nats-server sqlite3
# Debian's python3 has python3-nacl; a python3 earlier on PATH (pyenv, venv) may not
PY=""
for p in python3 /usr/bin/python3; do
  command -v $p > /dev/null && $p -c 'import nacl.signing' 2> /dev/null && { PY=$p; break; }
done
[ -n "$PY" ] || { echo "FAIL fleet_creds: python3-nacl missing (sh tools/deps.sh installs it)"; exit 1; }
scratch admd-fleet-creds

"$PY" tests/nats_creds.py "$T" > "$T/gen.log" 2>&1 || { echo "FAIL fleet_creds_generate: $(tail -3 "$T/gen.log")"; exit 1; }
tries=0
while :; do
  PORT=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000 ))
  printf 'listen: 127.0.0.1:%s\njetstream: { store_dir: "%s/js" }\ninclude "server.conf.inc"\n' "$PORT" "$T" > "$T/nats.conf"
  nats-server -c "$T/nats.conf" > "$T/nats.log" 2>&1 &
  NP=$!
  wait_for 20 grep -q "Server is ready" "$T/nats.log" && break
  kill -9 $NP 2>/dev/null; wait $NP 2>/dev/null
  tries=$((tries + 1)); [ $tries -ge 5 ] && { echo "FAIL fleet_creds_server: $(tail -3 "$T/nats.log")"; exit 1; }
done
PIDS="$PIDS $NP"
URL=nats://127.0.0.1:$PORT
check fleet_creds_operator_mode grep -q 'Operator: "adm-test"' "$T/nats.log"

# admctl: each wrong credential is refused, naming the problem
refused() {   # NAME TEXT [--nats-creds FILE]
  name=$1 want=$2; shift 2
  "$ADMCTL" fleet status --nats "$URL" "$@" > "$T/o" 2> "$T/e"; rc=$?
  if [ $rc -ne 0 ] && [ $rc -lt 128 ] && grep -q "^admctl: " "$T/e" && grep -q -- "$want" "$T/e"; then pass "$name"
  else fail "$name" "exit $rc, wanted '$want':"; sed 's/^/    err: /' "$T/e"; fi
}
refused fleet_creds_none 'the server wants credentials'
refused fleet_creds_rogue 'refused the credentials in .*rogue.creds' --nats-creds "$T/rogue.creds"
refused fleet_creds_nojs 'JetStream is not enabled for this account' --nats-creds "$T/nojs.creds"
refused fleet_creds_missing 'missing.creds: No such file' --nats-creds "$T/missing.creds"
cp "$T/fleet.creds" "$T/open.creds"; chmod 604 "$T/open.creds"
refused fleet_creds_other_readable 'readable by others' --nats-creds "$T/open.creds"
printf 'user=box\npassword=secret\n' > "$T/junk.creds"; chmod 600 "$T/junk.creds"
refused fleet_creds_not_creds 'not a NATS credentials file' --nats-creds "$T/junk.creds"
"$ADMCTL" fleet status --nats "$URL" --nats-creds "$T/fleet.creds" > "$T/o" 2> "$T/e"; rc=$?
check fleet_creds_status sh -c "[ $rc = 0 ] && grep -q '^queue ADM_JOBS' '$T/o'"

# admd: the same refusals end the daemon with status 1 and the reason in its log
mkdir -p "$T/box"
DB=$T/box/spool.db
M=$(pwd)/models/mnist
"$ADMD" --db "$DB" --drain $DEVICE_ARGS > "$T/init.log" 2>&1 || { echo "FAIL fleet_creds_spool: $(cat "$T/init.log")"; exit 1; }
sqlite3 "$DB" "INSERT INTO models (name, unet_path, unet_config, default_respacing) VALUES ('mnist', '$M/unet.safetensors', '$M/unet.config.txt', '2');"
admd_refused() {   # NAME TEXT CREDS
  timeout 60 "$ADMD" --db "$DB" $DEVICE_ARGS --nats "$URL" --nats-creds "$3" --poll 1 > "$T/r.log" 2>&1; rc=$?
  if [ $rc = 1 ] && grep -q -- "$2" "$T/r.log"; then pass "$1"
  else fail "$1" "exit $rc, wanted 1 and '$2':"; tail -5 "$T/r.log" | sed 's/^/    log: /'; fi
}
admd_refused fleet_creds_admd_rogue 'refused the credentials in .*rogue.creds' "$T/rogue.creds"
admd_refused fleet_creds_admd_nojs 'JetStream is not enabled for this account' "$T/nojs.creds"
admd_refused fleet_creds_admd_other_readable 'readable by others' "$T/open.creds"
admd_refused fleet_creds_admd_not_creds 'not a NATS credentials file' "$T/junk.creds"

# the right user: a box takes the job admctl queued and its image comes back
ID=$("$ADMCTL" fleet submit --nats "$URL" --nats-creds "$T/fleet.creds" --model mnist --count 1 2> "$T/e")
check fleet_creds_submit sh -c "[ -n '$ID' ]"
"$ADMD" --db "$DB" $DEVICE_ARGS --nats "$URL" --nats-creds "$T/fleet.creds" --poll 1 > "$T/box.log" 2>&1 &
BP=$!; PIDS="$PIDS $BP"
done_here() { [ "$(sqlite3 -cmd '.timeout 5000' "$DB" "SELECT count(*) FROM fleet_inbox i JOIN fleet_outbox o ON o.job_id = i.job_id WHERE i.msg_id = '$ID' AND i.state = 'acked' AND o.kind = 'done' AND o.sent_at IS NOT NULL")" = 1 ]; }
if wait_for 120 done_here; then pass fleet_creds_box_job
else fail fleet_creds_box_job "the job did not end acknowledged with its results out; box log:"; tail -20 "$T/box.log" | cut -c1-240 | sed 's/^/    /'; fi
"$ADMCTL" fleet collect --nats "$URL" --nats-creds "$T/fleet.creds" --out "$T/out" > "$T/o" 2> "$T/e"; rc=$?
sha=$(sqlite3 "$T/out/fleet.db" "SELECT sha256 FROM fleet_results WHERE job = '$ID' AND idx = 0" 2>/dev/null)
check fleet_creds_collect sh -c "[ $rc = 0 ] && [ -s '$T/out/$ID/0.png' ] && [ \"\$(sha256sum '$T/out/$ID/0.png' | cut -c1-64)\" = '$sha' ]"
kill -TERM $BP; wait $BP; rc=$?
check fleet_creds_box_stop [ $rc = 0 ]

# a box started while the server is down waits for it, and logs the server's
# refusal of its credentials once it is back (an operator must act)
kill -TERM $NP; wait $NP 2>/dev/null
"$ADMD" --db "$DB" $DEVICE_ARGS --nats "$URL" --nats-creds "$T/rogue.creds" --poll 1 > "$T/rogue.log" 2>&1 &
RP=$!; PIDS="$PIDS $RP"
sleep 1
nats-server -c "$T/nats.conf" > "$T/nats.2.log" 2>&1 &
NP=$!; PIDS="$PIDS $NP"
if wait_for 30 grep -q "refuses the credentials in .*rogue.creds" "$T/rogue.log"; then pass fleet_creds_refusal_logged
else fail fleet_creds_refusal_logged "no refusal in the box log:"; tail -5 "$T/rogue.log" | sed 's/^/    log: /'; fi
kill -TERM $RP; wait $RP; rc=$?
check fleet_creds_refused_box_stop [ $rc = 0 ]
