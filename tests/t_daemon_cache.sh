#!/bin/sh
# t_daemon_cache.sh — the device model cache: a model is loaded once and
# kept across jobs; with a budget too small for two models the least
# recently used one is evicted (and reloaded when needed again); editing a
# model file makes the next job load it afresh.
. tests/daemon_common.sh
make_spool || { fail spool_create "admd could not create the spool"; exit 1; }
q "INSERT INTO models (name, unet_path, unet_config) VALUES ('a2', '$R/unet_a/model.pt', '$R/unet_a/config.txt')"
# a0, a2, a0, a2 in this order (priority), one image of 2 steps each
jobs() {
  q "BEGIN;
     INSERT INTO jobs(model, respacing, priority) VALUES ('a0', '2', 4);
     INSERT INTO jobs(model, respacing, priority) VALUES ('a2', '2', 3);
     INSERT INTO jobs(model, respacing, priority) VALUES ('a0', '2', 2);
     INSERT INTO jobs(model, respacing, priority) VALUES ('a2', '2', 1);
     COMMIT;"
}
# loads / evictions before the queue drained (the cache is emptied at exit)
loads() { sed '/queue empty/q' "$1" | grep -c 'loaded in'; }
evictions() { sed '/queue empty/q' "$1" | grep -c 'unloaded'; }

jobs
"$ADMD" --db "$DB" --drain --cache-mb 100 $DEVICE_ARGS > "$T/big.log" 2>&1
check big_budget_all_done [ "$(q "SELECT count(*) FROM jobs WHERE state = 'done'")" = 4 ]
check big_budget_two_loads [ "$(loads "$T/big.log")" = 2 ]
check big_budget_no_eviction [ "$(evictions "$T/big.log")" = 0 ]
check cache_hit_load_time_zero [ "$(q "SELECT count(*) FROM provenance WHERE model_load_s = 0")" = 2 ]

jobs
"$ADMD" --db "$DB" --drain --cache-mb 15 $DEVICE_ARGS > "$T/small.log" 2>&1
check small_budget_all_done [ "$(q "SELECT count(*) FROM jobs WHERE state = 'done'")" = 8 ]
check small_budget_reloads [ "$(loads "$T/small.log")" = 4 ]
check small_budget_evicts_lru [ "$(evictions "$T/small.log")" = 3 ]
echo "  budget 100 MB: $(loads "$T/big.log") loads for 4 jobs; budget 15 MB: $(loads "$T/small.log") loads, $(evictions "$T/small.log") evictions"

# A changed file (new mtime) is loaded afresh even when cached.
cp "$R/unet_a/model.pt" "$T/copy.pt"
q "INSERT INTO models (name, unet_path, unet_config) VALUES ('c', '$T/copy.pt', '$R/unet_a/config.txt');
   INSERT INTO jobs(model, respacing, priority) VALUES ('c', '2', 2);
   INSERT INTO jobs(model, respacing, priority) VALUES ('c', '2', 1);"
start_admd "$T/c.log" --poll 1 || { fail daemon_start "$(cat "$T/c.log")"; exit 1; }
wait_for 120 all_done
check same_file_loaded_once [ "$(grep -c 'model c: loaded' "$T/c.log")" = 1 ]
touch -d '2001-01-01' "$T/copy.pt"
q "INSERT INTO jobs(model, respacing) VALUES ('c', '2')"
wait_for 120 all_done
check changed_file_reloaded [ "$(grep -c 'model c: loaded' "$T/c.log")" = 2 ]
kill -TERM "$ADMD_PID"; wait "$ADMD_PID"
