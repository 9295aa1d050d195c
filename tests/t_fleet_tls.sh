#!/bin/sh
# t_fleet_tls.sh — a tls:// URL turns TLS on: a nats-server with a
# self-signed certificate for 127.0.0.1 (made here with openssl) on a
# loopback port; admctl fleet with --nats-ca trusts it and works, without
# the CA the handshake is refused with a message, a box started with
# tls:// and the CA connects and reports; one without the CA stops with the
# handshake's error (not a silent retry).
. tests/programs.sh
need "$ADMD" "$ADMCTL" nats-server openssl sqlite3
scratch admd-fleet-tls

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 2 \
  -subj /CN=127.0.0.1 -addext "subjectAltName=IP:127.0.0.1" > "$T/openssl.log" 2>&1 ||
  { echo "FAIL fleet_tls_cert: $(cat "$T/openssl.log")"; exit 1; }
tries=0
while :; do
  PORT=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000 ))
  nats-server -js -a 127.0.0.1 -p "$PORT" -sd "$T/js" --tls --tlscert "$T/cert.pem" --tlskey "$T/key.pem" > "$T/nats.log" 2>&1 &
  NP=$!
  wait_for 20 grep -q "Server is ready" "$T/nats.log" && break
  kill -9 $NP 2>/dev/null; wait $NP 2>/dev/null
  tries=$((tries + 1)); [ $tries -ge 5 ] && { echo "FAIL fleet_tls_server: $(tail -3 "$T/nats.log")"; exit 1; }
done
PIDS="$PIDS $NP"
URL=tls://127.0.0.1:$PORT

"$ADMCTL" fleet status --nats "$URL" --nats-ca "$T/cert.pem" > "$T/o" 2> "$T/e"; rc=$?
check fleet_tls_trusted sh -c "[ $rc = 0 ] && grep -q '^queue ADM_JOBS' '$T/o'"
"$ADMCTL" fleet status --nats "$URL" > "$T/o" 2> "$T/e"; rc=$?
check fleet_tls_untrusted_refused sh -c "[ $rc = 1 ] && grep -q '^admctl: ' '$T/e'"
grep '^admctl' "$T/e" | head -1 | cut -c1-160 | sed 's/^/  /'

# a box over TLS takes a job and reports
mkdir -p "$T/box"
DB=$T/box/spool.db
M=$(pwd)/models/mnist
"$ADMD" --db "$DB" --drain $DEVICE_ARGS > "$T/init.log" 2>&1 || { echo "FAIL fleet_tls_spool: $(cat "$T/init.log")"; exit 1; }
sqlite3 "$DB" "INSERT INTO models (name, unet_path, unet_config, default_respacing) VALUES ('mnist', '$M/unet.safetensors', '$M/unet.config.txt', '2');"
timeout 60 "$ADMD" --db "$DB" $DEVICE_ARGS --nats "$URL" --poll 1 > "$T/untrusted.log" 2>&1; rc=$?
check fleet_tls_box_untrusted_refused sh -c "[ $rc = 1 ] && grep -q 'SSL handshake' '$T/untrusted.log'"
ID=$("$ADMCTL" fleet submit --nats "$URL" --nats-ca "$T/cert.pem" --model mnist)
"$ADMD" --db "$DB" $DEVICE_ARGS --nats "$URL" --nats-ca "$T/cert.pem" --poll 1 > "$T/box.log" 2>&1 &
BP=$!; PIDS="$PIDS $BP"
done_here() { [ "$(sqlite3 -cmd '.timeout 5000' "$DB" "SELECT count(*) FROM fleet_inbox i JOIN fleet_outbox o ON o.job_id = i.job_id WHERE i.msg_id = '$ID' AND i.state = 'acked' AND o.kind = 'done' AND o.sent_at IS NOT NULL")" = 1 ]; }
if wait_for 120 done_here; then pass fleet_tls_box_job
else fail fleet_tls_box_job "the job did not end acknowledged with its results out; box log:"; tail -20 "$T/box.log" | cut -c1-240 | sed 's/^/    /'; fi
"$ADMCTL" fleet collect --nats "$URL" --nats-ca "$T/cert.pem" --out "$T/out" > "$T/o" 2> "$T/e"; rc=$?
check fleet_tls_collect sh -c "[ $rc = 0 ] && [ -s '$T/out/$ID/0.png' ]"
kill -TERM $BP; wait $BP; rc=$?
check fleet_tls_box_stop [ $rc = 0 ]
