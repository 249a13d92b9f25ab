#!/bin/sh
# Chaos: the whole mail pipeline under fire.  500 mails arrive in INBOX
# over a minute, naming ~200 orders between them (orders repeat), while
# `ikasq fetch --idle` and three `ikasq work --follow` are SIGKILLed at
# random every 2-4 s and started again at once, PostgreSQL restarts once
# under them, and the İkas stand-in answers 3% of its calls 429 and 3% 500.
# Afterwards every mail is stored exactly once, every order is cached,
# every lookup job completed exactly once, nothing failed, and the daemons
# still stop cleanly on SIGTERM.
#
# CHAOS_SEED=N replays a run's mails, kill schedule and İkas faults (the
# timing between them is the machine's).
. "$TOP_SRCDIR/tests/lib.sh"
NMAILS=500
SEED=${CHAOS_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
diag "seed $SEED (CHAOS_SEED=$SEED to replay)"
t_start=$(date +%s)

pg_setup
dovecot_setup
ikas_setup 2>>"$T/fake-ikas.err"
ikas_conf "batch_size = 2
rate_limit = 20
rate_window = 1s
burst = 5
timeout = 5s"
cat >>"$IKASQ_CONFIG" <<CONF
[queue]
lease = 3s
max_attempts = 10
max_rescues = 50
backoff_unit = 1s
backoff_max = 1m
[worker]
claim_batch = 5
check_interval = 1s
[imap:shop]
host = 127.0.0.1
port = $IMAP_PORT
tls = none
user = shop
password = secret
mailboxes = INBOX
keepalive = 5s
batch_size = 20
CONF
exits 0 "the configuration is valid" "$IKASQ" config check
[ "$rc" = 0 ] || bail "the configuration is not valid: $err"
# each call takes 50-400 ms, so that a SIGKILL often hits a worker that
# holds jobs
ikas_admin /_admin/chaos "{\"p429\": 0.03, \"p500\": 0.03, \"retry_after\": 1,
    \"delay\": [0.05, 0.4], \"seed\": $SEED}" >/dev/null

# --- the daemons ---------------------------------------------------------------
# process 0 is the fetcher, 1-3 the workers; P0..P3 their pids, each with
# a log of its own that every incarnation appends to
name() { if [ "$1" = 0 ]; then echo fetch; else echo "w$1"; fi; }
start() {
	echo "=== $(date +%T.%N | cut -c1-12) started" >>"$T/$(name "$1").log"
	if [ "$1" = 0 ]; then
		spawn "$IKASQ" fetch --idle </dev/null >>"$T/fetch.out" 2>>"$T/fetch.log"
	else
		spawn "$IKASQ" work --follow </dev/null >>"$T/w$1.out" 2>>"$T/w$1.log"
	fi
	eval "P$1=\$!"
}
pid() { eval "echo \$P$1"; }
# ready K: process K's latest incarnation has connected and waits for work
ready() {
	awk '/^=== /{r=0} /waiting for jobs|waiting for new mail/{r=1} END{exit !r}' \
	    "$T/$(name "$1").log"
}
# forget PID: a reaped child no longer needs killing at exit (its pid may
# be somebody else's by then)
forget() { t_pids=$(echo " $t_pids " | sed "s/ $1 / /; s/^ *//; s/ *\$//"); }
# dead PID: our child has exited (a zombie not yet reaped counts)
dead() {
	case $(ps -o stat= -p "$1" 2>/dev/null) in
	Z*|"") return 0 ;;
	esac
	return 1
}
alive() { ! dead "$1"; }
# reap PID SECONDS: wait for the child to end, SIGKILLing it after SECONDS;
# its exit status in $rc ("timeout" when it had to be killed)
reap() {
	_n=0
	while ! dead "$1" && [ $_n -lt $(($2 * 20)) ]; do
		sleep 0.05; _n=$((_n + 1))
	done
	if dead "$1"; then
		wait "$1" 2>/dev/null; rc=$?
	else
		kill -9 "$1" 2>/dev/null; wait "$1" 2>/dev/null; rc=timeout
	fi
	forget "$1"
}
for k in 0 1 2 3; do start $k; done

# --- the mail -------------------------------------------------------------------
# NMAILS distinct mails in batches of 1-15 with pauses of 0.2-1.8 s; each
# names one order of 300000-300199 (one in ten names two, one in twenty
# none).  What each mail should yield goes to expect.tsv, the number
# appended so far to progress.
cat >"$T/gen.py" <<'PY'
import imaplib, random, sys, time
port, seed, n, expect, progress = sys.argv[1:6]
rnd = random.Random("mails-" + seed)
n = int(n)
def connect():
    c = imaplib.IMAP4("127.0.0.1", int(port))
    c.login("shop", "secret")
    return c
c = connect()
out = open(expect, "w")
i = 0
while i < n:
    for _ in range(min(n - i, rnd.randint(1, 15))):
        r = rnd.random()
        a, b = rnd.randrange(200), rnd.randrange(200)
        if r < 0.05:
            orders, subj, text = [], "Iade hakkinda", "Merhaba, urunu iade etmek istiyorum."
        elif r < 0.15 and a != b:
            orders = [str(300000 + a), str(300000 + b)]
            subj = "Siparis %s ve %s nerede?" % tuple(orders)
            text = "Merhaba, %s ve %s numarali siparislerim gelmedi." % tuple(orders)
        else:
            orders = [str(300000 + a)]
            subj = "Siparis %s nerede?" % orders[0]
            text = "Merhaba, %s numarali siparisim gelmedi." % orders[0]
        mid = "chaos-%d-%s@example.com" % (i, seed)
        msg = ("From: Musteri %d <musteri%d@example.com>\r\n"
               "To: destek@magaza.com\r\n"
               "Subject: %s\r\n"
               "Message-ID: <%s>\r\n"
               "Date: Sun, 29 Nov 2026 10:00:00 +0300\r\n"
               "Content-Type: text/plain; charset=utf-8\r\n\r\n"
               "%s\r\n" % (i, i, subj, mid, text)).encode()
        for attempt in range(5):
            try:
                typ, resp = c.append("INBOX", None, None, msg)
                if typ == "OK":
                    break
            except (OSError, imaplib.IMAP4.abort):
                time.sleep(0.5)
                c = connect()
        else:
            sys.exit("APPEND of mail %d failed" % i)
        out.write("%s\t{%s}\n" % (mid, ",".join(orders)))
        i += 1
    out.flush()
    with open(progress + ".new", "w") as p:
        p.write("%d\n" % i)
    import os; os.rename(progress + ".new", progress)
    time.sleep(rnd.uniform(0.2, 1.8))
c.logout()
PY
# the kill schedule: a pause of 2-4 s and a victim, line by line
python3 -c '
import random, sys
r = random.Random("kills-" + sys.argv[1])
for _ in range(1000):
    print("%.2f %d" % (r.uniform(2, 4), r.randrange(4)))' "$SEED" >"$T/kills"

echo 0 >"$T/progress"
spawn python3 "$T/gen.py" "$IMAP_PORT" "$SEED" $NMAILS "$T/expect.tsv" "$T/progress" 2>"$T/gen.err"
gen=$!
t_chaos=$(date +%s)

# --- the chaos ----------------------------------------------------------------------
kills=0 restarts=0 pg_restarts=0 unexpected=""
kills_0=0 kills_1=0 kills_2=0 kills_3=0
while read -r pause victim <&3; do
	sleep "$pause"
	dead "$gen" && break
	# anybody who died on his own is news (and is started again)
	for k in 0 1 2 3; do
		p=$(pid $k)
		if dead "$p"; then
			reap "$p" 1
			unexpected="$unexpected $(name $k):exit=$rc"
			diag "$(name $k) (pid $p) died by itself, exit $rc: restarted"
			start $k
			restarts=$((restarts + 1))
		fi
	done
	p=$(pid "$victim")
	kill -9 "$p" 2>/dev/null
	reap "$p" 5
	[ "$rc" = 137 ] || unexpected="$unexpected $(name "$victim"):killed-exit=$rc"
	kills=$((kills + 1))
	eval "kills_$victim=\$((kills_$victim + 1))"
	start "$victim"
	restarts=$((restarts + 1))
	# once, half-way: PostgreSQL restarts under everybody (no kills while
	# it is down, so that nobody starts without a database)
	if [ $pg_restarts = 0 ] && [ "$(cat "$T/progress")" -ge $((NMAILS / 2)) ]; then
		# (a daemon that starts while the database is down exits 75, as
		# documented: let the one just started connect first)
		for k in 0 1 2 3; do
			n=0
			until ready $k || [ $n -ge 100 ]; do sleep 0.05; n=$((n + 1)); done
		done
		diag "PostgreSQL restarts after $(cat "$T/progress") mails"
		pg_stop fast || bail "pg_stop"
		sleep 2
		pg_start || bail "pg restart"
		pg_restarts=1
	fi
done 3<"$T/kills"
reap "$gen" 60
is "$rc" 0 "the $NMAILS mails were appended"
[ -s "$T/gen.err" ] && diag "$(cat "$T/gen.err")"
t_appended=$(date +%s)
diag "appending took $((t_appended - t_chaos)) s; $kills kills (fetch $kills_0, w1 $kills_1, w2 $kills_2, w3 $kills_3), $restarts restarts"
is "$pg_restarts" 1 "PostgreSQL was restarted once in the middle"

# --- settling ------------------------------------------------------------------------
settled() {
	[ "$(sql "SELECT (SELECT count(*) FROM mails) = $NMAILS
	    AND NOT EXISTS (SELECT 1 FROM job_queue
	                     WHERE status IN ('pending', 'processing'))
	    AND (SELECT count(*) FROM job_queue) =
	        (SELECT count(*) FROM mails WHERE cardinality(order_numbers) > 0)" 2>/dev/null)" = t ]
}
until settled || [ "$(date +%s)" -ge $((t_appended + 90)) ]; do sleep 0.1; done
check "everything settles within 90 s of the last mail ($(($(date +%s) - t_appended)) s)" settled
for k in 0 1 2 3; do
	check "$(name $k) is still running" alive "$(pid $k)"
done
is "$unexpected" "" "no daemon exited by itself, every SIGKILL killed"

# --- stopping --------------------------------------------------------------------
for k in 0 1 2 3; do kill -TERM "$(pid $k)"; done
for k in 0 1 2 3; do
	reap "$(pid $k)" 5
	is "$rc" 0 "SIGTERM: $(name $k) exits 0 within 5 s"
done
like "$(tail -n 1 "$T/fetch.log")" "stopped: [0-9]+ new mails stored" "the fetcher's log ends with its summary"
for k in 1 2 3; do
	like "$(tail -n 1 "$T/w$k.log")" "worker finished: [0-9]+ processed" "w$k's log ends with its summary"
done

# --- the mails ----------------------------------------------------------------------
is "$(sql "SELECT count(*), count(DISTINCT message_id), count(DISTINCT sha256) FROM mails")" \
    "$NMAILS|$NMAILS|$NMAILS" "$NMAILS mails stored, each once (distinct Message-IDs and SHA-256s)"
is "$(sql "SELECT string_agg(mailbox || ':' || last_uid, ' ') FROM imap_state WHERE account = 'shop'")" \
    "INBOX:$NMAILS" "imap_state: INBOX is at UID $NMAILS"
# what each mail should have yielded, against what was stored
{
	echo "CREATE TABLE chaos_expect (message_id text PRIMARY KEY, orders text[]);"
	echo "COPY chaos_expect FROM stdin;"
	cat "$T/expect.tsv"
	echo '\.'
} | PGOPTIONS="-c search_path=$T_SCHEMA -c client_min_messages=warning" \
    psql -X -q -v ON_ERROR_STOP=1 "$T_CONNINFO" >/dev/null 2>"$T/expect.err"
is "$(sql "SELECT count(*) FROM chaos_expect")" $NMAILS "the generator's $NMAILS mails are known"
is "$(sql "SELECT count(*) FROM chaos_expect e FULL JOIN mails m ON m.message_id = e.message_id
            WHERE m.id IS NULL OR e.message_id IS NULL OR m.order_numbers <> e.orders")" 0 \
    "each of them stored with the order numbers it names"
orders=$(sql "SELECT count(DISTINCT n) FROM mails, unnest(order_numbers) n")
with=$(sql "SELECT count(*) FROM mails WHERE cardinality(order_numbers) > 0")
diag "$with mails name $orders distinct orders"

# --- the cache --------------------------------------------------------------------
is "$(sql "SELECT count(*) FROM (SELECT DISTINCT unnest(order_numbers) n FROM mails) m
            WHERE NOT EXISTS (SELECT 1 FROM ikas_order_cache c
                               WHERE c.mail_id IS NULL AND c.order_number = m.n
                                 AND c.found AND c.expires_at > now())")" 0 \
    "every order named by a mail has a fresh cache row (found)"
is "$(sql "SELECT count(*) FROM mails m WHERE cardinality(order_numbers) > 0
            AND NOT EXISTS (SELECT 1 FROM ikas_order_cache c
                             WHERE c.mail_id = m.id AND c.order_number = ANY (m.order_numbers))")" 0 \
    "every mail naming an order has its own cache row"

# --- the jobs ---------------------------------------------------------------------
is "$(sql "SELECT count(*) FROM job_queue WHERE status IN ('pending', 'processing')")" 0 \
    "no job left pending or processing"
failed=$(sql "SELECT count(*) FROM job_queue WHERE status = 'failed'")
is "$failed" 0 "no job failed"
[ "$failed" = 0 ] || diag "$(sql "SELECT id, attempts, rescues, error_message FROM job_queue WHERE status = 'failed' LIMIT 5")"
is "$(sql "SELECT count(*) FROM mails m WHERE cardinality(order_numbers) > 0
            AND (SELECT string_agg(j.job_type || ':' || j.status, ' ') FROM job_queue j
                  WHERE j.payload->>'mail_id' = m.id::text)
                IS DISTINCT FROM 'fetch_ikas_order:completed'")" 0 \
    "every mail naming an order has exactly one lookup job, completed"
is "$(sql "SELECT count(*) FROM job_queue j WHERE NOT EXISTS (SELECT 1 FROM mails m
            WHERE m.id::text = j.payload->>'mail_id' AND cardinality(m.order_numbers) > 0)")" 0 \
    "and there is no other job (none for the mails without orders)"
dup=$(cat "$T"/w?.log | sed -n 's/.*job \([0-9a-f-]*\) completed:.*/\1/p' | sort | uniq -d | head -n 5)
is "$dup" "" "no job was completed twice (the workers' logs)"
completed=$(sql "SELECT count(*) FROM job_queue WHERE status = 'completed'")
is "$completed" "$with" "$with jobs completed"
diag "jobs: $(sql "SELECT string_agg(a || ' attempts: ' || n, ', ' ORDER BY a) FROM (SELECT attempts a, count(*) n FROM job_queue GROUP BY attempts) x");" \
    "      $(sql "SELECT count(*) FILTER (WHERE rescues > 0) || ' rescued from killed workers (' || coalesce(sum(rescues), 0) || ' rescues), ' || count(*) FILTER (WHERE error_message IS NOT NULL) || ' with an error on the way' FROM job_queue")"

# --- İkas --------------------------------------------------------------------------
stat() {
	python3 - "$IKAS_PORT" "$1" <<-'PY'
	import json, sys, urllib.request
	s = json.load(urllib.request.urlopen("http://127.0.0.1:%s/_admin/stats" % sys.argv[1]))
	print(eval(sys.argv[2]))
	PY
}
req=$(stat 's["graphql_requests"]')
n429=$(stat 's["chaos_429"]')
n500=$(stat 's["chaos_500"]')
diag "İkas: $req GraphQL requests ($n429 answered 429, $n500 answered 500)," \
    "      $(stat 's["token_requests"]') token requests, $(stat 'len(s["orders"])') orders asked $(stat 'sum(s["orders"].values())') times"
check "İkas's faults were injected ($n429 x 429, $n500 x 500)" [ "$((n429 + n500))" -gt 0 ]
for k in 0 1 2 3; do
	diag "$(name $k): $(grep -c '^=== .* started' "$T/$(name $k).log") starts, $(grep -ciE 'lost connection|reconnecting|trying again' "$T/$(name $k).log") reconnect messages"
done
diag "workers: $(cat "$T"/w?.log | grep -c 'was taken over by another worker') jobs taken over from a live worker, $(cat "$T"/w?.log | grep -c 'rescheduled in') reschedules (429), $(cat "$T"/w?.log | grep -c 'failed (attempt') failed attempts"
t_end=$(date +%s)
diag "chaos: $kills kills, $restarts restarts, pg restarted ${pg_restarts}x, $req İkas requests ($n429 429, $n500 500), mails $(sql "SELECT count(*) FROM mails")/$NMAILS, jobs completed $completed, failed $failed"
diag "($((t_end - t_start)) s in all)"
done_testing
