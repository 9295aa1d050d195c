#!/bin/sh
# t_daemon_two.sh — two admd processes on one spool: every job runs exactly
# once (one "started" line across both logs, attempts = 1, one outputs row
# per image), both daemons take work, and a job is never held by both.
. tests/daemon_common.sh
make_spool || { fail spool_create "admd could not create the spool"; exit 1; }
N=8
i=0; sql="BEGIN;"
while [ $i -lt $N ]; do sql="$sql INSERT INTO jobs(model, count, respacing, seed) VALUES ('a0', 1, '4', $i);"; i=$((i+1)); done
start_admd "$T/d1.log" --poll 1 || { fail daemon1_start "$(cat "$T/d1.log")"; exit 1; }
p1=$ADMD_PID
start_admd "$T/d2.log" --poll 1 || { fail daemon2_start "$(cat "$T/d2.log")"; exit 1; }
p2=$ADMD_PID
q "$sql COMMIT;"
# Watch the table while they work: each daemon runs one job at a time.
max_running=0
end=$(( $(date +%s) + 240 ))
while ! all_done && [ "$(date +%s)" -lt "$end" ]; do
  r=$(q "SELECT count(*) FROM jobs WHERE state = 'running'")
  [ "$r" -gt "$max_running" ] && max_running=$r
  sleep 0.05
done
check all_jobs_done [ "$(q "SELECT count(*) FROM jobs WHERE state = 'done'")" = $N ]
check each_started_once [ "$(cat "$T/d1.log" "$T/d2.log" | grep -c 'started (model')" = $N ]
check no_job_started_twice [ -z "$(cat "$T/d1.log" "$T/d2.log" | grep -o 'job [0-9]*: started' | sort | uniq -d)" ]
check attempts_all_one [ "$(q "SELECT count(*) FROM jobs WHERE attempts = 1")" = $N ]
check one_output_per_job [ "$(q "SELECT count(*) || ' ' || count(DISTINCT job_id) FROM outputs")" = "$N $N" ]
check both_daemons_worked [ "$(q "SELECT count(DISTINCT worker) FROM provenance")" = 2 ]
check one_job_per_daemon_at_a_time [ "$max_running" -le 2 ]
echo "  jobs per worker: $(q "SELECT group_concat(n, ', ') FROM (SELECT count(*) AS n FROM provenance GROUP BY worker)")"
kill -TERM "$p1" "$p2"; wait "$p1"; r1=$?; wait "$p2"; r2=$?
check both_exit0 [ "$r1$r2" = 00 ]
