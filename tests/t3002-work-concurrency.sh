#!/bin/sh
# Many workers, one İkas rate limit: four workers share 2,000 jobs and stay
# under the API's limit together, asking for each order once; a worker
# killed while it waits on İkas leaves its job to the next one after the
# lease; a --follow worker starts a new job within 100 ms and stops cleanly
# on SIGTERM; jobs naming the same order in one batch make one call.
. "$TOP_SRCDIR/tests/lib.sh"
pg_setup
# the stand-in's own complaints (a client killed while it waited) go to a
# file in the scratch directory, not to the test's stderr
ikas_setup 2>>"$T/fake-ikas.err"
# the limit İkas enforces below, and the same numbers for the workers'
# shared bucket; small batches, so that many calls are needed and the
# limit binds
ikas_conf "batch_size = 10
rate_limit = 20
rate_window = 2s
burst = 2"
ikas_admin /_admin/limit '{"requests": 20, "window": 2}' >/dev/null
# stat PYTHON-EXPR: over the stand-in's counters (as s)
stat() {
	python3 - "$IKAS_PORT" "$1" <<-'PY'
	import json, sys, urllib.request
	url = "http://127.0.0.1:%s/_admin/stats" % sys.argv[1]
	s = json.load(urllib.request.urlopen(url))
	print(eval(sys.argv[2]))
	PY
}
# wait_for SECONDS SQL-CONDITION: poll every 10 ms until it holds
wait_for() {
	_end=$(($(date +%s) + $1))
	while [ "$(sql "SELECT ($2)")" != t ]; do
		[ "$(date +%s)" -ge "$_end" ] && return 1
		sleep 0.01
	done
}
# reap PID SECONDS: wait for our ikasq PID, SIGKILLing it after SECONDS;
# its exit status in $rc
reap() {
	_n=0
	while [ $_n -lt $(($2 * 20)) ]; do
		case $(ps -o stat=,comm= -p "$1" 2>/dev/null) in
		Z*|"") break ;;
		*ikasq*) ;;
		*) break ;;
		esac
		sleep 0.05
		_n=$((_n + 1))
	done
	if [ $_n -ge $(($2 * 20)) ]; then
		diag "ikasq $1 still runs after $2 s: killed"
		kill -9 "$1" 2>/dev/null
	fi
	wait "$1" 2>/dev/null
	rc=$?
}
now() { date +%s.%N; }
elapsed() { python3 -c 'import sys; print("%.1f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$1" "$2"; }

# --- 1. four workers, 2,000 jobs, 500 orders, one rate limit ----------------
# job i names order 100000 + (i*7 % 500); every fifth job after the first
# 500 also names the order of job i+1.  Claimed in the order of i.
sql "INSERT INTO job_queue (job_type, payload, priority, scheduled_at)
     SELECT 'fetch_ikas_order', jsonb_build_object('order_numbers',
              CASE WHEN i > 500 AND i % 5 = 0
                   THEN jsonb_build_array((100000 + i * 7 % 500)::text,
                                          (100000 + (i + 1) * 7 % 500)::text)
                   ELSE jsonb_build_array((100000 + i * 7 % 500)::text) END),
            5, now() - make_interval(secs => (2001 - i) / 1000.0)
       FROM generate_series(1, 2000) AS i"
is "$(sql "SELECT count(*), count(DISTINCT n) FROM job_queue, jsonb_array_elements_text(payload->'order_numbers') AS n")" \
    "2300|500" "2,000 jobs name 500 distinct orders (2,300 names)"
t0=$(now)
pids=""
for k in 1 2 3 4; do
	spawn "$IKASQ" work --max-jobs 100000 >"$T/w$k.out" 2>"$T/w$k.log"
	pids="$pids $!"
done
k=0
for p in $pids; do
	k=$((k + 1))
	reap "$p" 90
	is "$rc" 0 "worker $k exits 0"
done
t1=$(now)
secs=$(elapsed "$t0" "$t1")
diag "four workers: $secs s, $(stat 's["graphql_requests"]') GraphQL calls"
is "$(sql "SELECT string_agg(status || ':' || n, ' ') FROM (SELECT status, count(*) n FROM job_queue GROUP BY status) x")" \
    "completed:2000" "every job completed (none pending, processing or failed)"
is "$(sql "SELECT count(*) FROM job_queue WHERE attempts <> 1 OR rescues <> 0 OR error_message IS NOT NULL")" 0 \
    "each in one attempt, none rescued, no error"
total=0
busy=0
for k in 1 2 3 4; do
	n=$(sed -n 's/.*worker finished: \([0-9]*\) processed.*/\1/p' "$T/w$k.log")
	total=$((total + ${n:-0}))
	[ "${n:-0}" -gt 0 ] && busy=$((busy + 1))
done
is "$total" 2000 "the workers' summaries add up to 2,000"
is "$busy" 4 "all four workers took jobs"
is "$(stat 'len(s["orders"])')" 500 "İkas was asked for the 500 orders"
dups=$(stat '" ".join(sorted(n for n, c in s["orders"].items() if c != 1))')
is "$(echo $dups | wc -w)" 0 "each of them exactly once (cache and in-batch dedupe)"
[ -n "$dups" ] && diag "asked more than once: $(echo $dups | cut -c1-69) ..."
self=""
for k in 1 2 3 4; do
	d=$(sed -n 's/.*order \([0-9]*\) found at İkas$/\1/p' "$T/w$k.log" | sort | uniq -d | head -n 3)
	[ -n "$d" ] && self="$self w$k:$(echo $d)"
done
is "$self" "" "no worker asked for an order twice itself (duplicates are between workers)"
is "$(stat 's["status_429"]')" 0 "İkas never answered 429"
is "$(stat 's["max_in_window"] <= 20')" True "never more than 20 requests in 2 s ($(stat 's["max_in_window"]'))"
is "$(stat 's["graphql_requests"] >= 50')" True "at least 500/10 = 50 calls"
is "$(stat 's["token_requests"]')" 1 "one token, shared by all four"
is "$(sql "SELECT count(*) FROM ikas_order_cache WHERE mail_id IS NULL AND found")" 500 \
    "500 orders in the cache"
check "within a minute ($secs s)" python3 -c "import sys; sys.exit(not float(sys.argv[1]) < 60)" "$secs"
check "and no faster than the limit allows (>= 4 s)" python3 -c "import sys; sys.exit(not float(sys.argv[1]) >= 4)" "$secs"
unlike "$(cat "$T"/w?.log)" "taken over|rescheduled|failed \(attempt" "no job taken over, rescheduled or failed"

# --- 2. SIGKILL while the worker waits on İkas ----------------------------------
cp "$IKASQ_CONFIG" "$T/lease.conf"
printf '[queue]\nlease = 2s\n' >>"$T/lease.conf"
chmod 600 "$T/lease.conf"
ikas_admin /_admin/reset >/dev/null
J=$("$IKASQ" enqueue fetch_ikas_order '{"order_numbers":["200001"]}')
ikas_admin /_admin/fail '{"what": "slow", "seconds": 5, "count": 1}' >/dev/null
spawn "$IKASQ" -c "$T/lease.conf" work 2>"$T/killed.log"
kpid=$!
n=0
while [ "$(stat 's["graphql_requests"]')" = 0 ] && [ $n -lt 500 ]; do sleep 0.01; n=$((n + 1)); done
is "$(sql "SELECT status, attempts FROM job_queue WHERE id = '$J'")" "processing|1" \
    "the job is processing while the worker waits on İkas"
kill -9 "$kpid"
wait "$kpid" 2>/dev/null
is "$?" 137 "the worker is killed (SIGKILL)"
is "$(sql "SELECT status FROM job_queue WHERE id = '$J'")" processing "its job is still processing"
check "its lease expires (2 s)" wait_for 5 "SELECT lease_expires_at < now() FROM job_queue WHERE id = '$J'"
exits 0 "another worker after the lease" "$IKASQ" -c "$T/lease.conf" work
is "$(sql "SELECT status, attempts, rescues FROM job_queue WHERE id = '$J'")" "completed|1|1" \
    "the job is completed once: the rescue gave the attempt back and counts 1 rescue"
like "$err" "job $J started: fetch_ikas_order, priority [0-9]+ \(attempt 1/3\)" "started again as attempt 1"
like "$err" "job $J completed: found: 200001" "and completed"
is "$(sql "SELECT count(*) FROM ikas_order_cache WHERE order_number = '200001' AND mail_id IS NULL")" 1 "one cache row"
sleep 3	# until the killed worker's slow answer is over at the stand-in
is "$(stat 's["graphql_requests"]')" 2 "İkas got two requests (the killed one and the new one)"
is "$(stat 's["orders"].get("200001", 0) <= 2')" True "the order was asked twice at most ($(stat 's["orders"].get("200001", 0)'))"

# --- 3. --follow: a new job within 100 ms; SIGTERM ---------------------------------
ikas_admin /_admin/reset >/dev/null
spawn "$IKASQ" work --follow 2>"$T/follow.log"
fpid=$!
n=0
until grep -q "waiting for jobs" "$T/follow.log" 2>/dev/null || [ $n -ge 500 ]; do sleep 0.01; n=$((n + 1)); done
like "$(cat "$T/follow.log")" "worker .* waiting for jobs" "the --follow worker is waiting"
sleep 0.3	# LISTEN is in place
slow=""
for i in 1 2 3 4 5; do
	t0=$(now)
	J=$("$IKASQ" enqueue fetch_ikas_order "{\"order_numbers\":[\"40000$i\"]}")
	n=0
	while [ "$(sql "SELECT status FROM job_queue WHERE id = '$J'")" != completed ] && [ $n -lt 500 ]; do
		sleep 0.01; n=$((n + 1))
	done
	t1=$(now)
	lag=$(sql "SELECT round(extract(epoch FROM started_at - created_at)::numeric, 3) FROM job_queue WHERE id = '$J' AND status = 'completed'")
	diag "job $i: created to started ${lag:-never} s, enqueue to completed $(elapsed "$t0" "$t1") s"
	python3 -c "import sys; sys.exit(not float(sys.argv[1] or 9) < 0.1)" "$lag" || slow="$slow $i:${lag:-never}"
	sleep 0.2
done
is "$slow" "" "each of 5 jobs started within 100 ms of its enqueue"
kill -TERM "$fpid"
reap "$fpid" 10
is "$rc" 0 "SIGTERM: the --follow worker exits 0"
is "$(tail -n 1 "$T/follow.log" | sed 's/.*worker finished/worker finished/')" \
    "worker finished: 5 processed, 0 failed" "its log ends with the summary"

# --- 4. 50 jobs naming one order, in one batch --------------------------------------
ikas_admin /_admin/reset >/dev/null
sql "INSERT INTO job_queue (job_type, payload, priority)
     SELECT 'fetch_ikas_order', '{\"order_numbers\":[\"300001\"]}', 5
       FROM generate_series(1, 50)"
exits 0 "50 jobs for one order" "$IKASQ" work --max-jobs 50 --json
like "$out" '"processed":50' "all 50 processed in one run"
is "$(stat 's["graphql_requests"]')" 1 "one GraphQL call"
is "$(stat 's["orders"]')" "{'300001': 1}" "asking for the order once"
is "$(sql "SELECT count(*) FROM job_queue WHERE payload->'order_numbers' ? '300001' AND status = 'completed' AND result = 'found: 300001'")" \
    50 "every job completed with the order found"
done_testing
