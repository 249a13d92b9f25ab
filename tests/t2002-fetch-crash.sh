#!/bin/sh
# ikasq fetch interrupted in the middle of a mailbox: killed with SIGKILL,
# the IMAP server killed, the database stopped inside a batch's transaction.
# Each batch and its watermark are committed together, so the watermark
# never runs ahead of the stored mail (every UID up to last_uid is stored,
# none after it), the interrupted run exits 75 where it lives to say so,
# and the next run stores the rest: every mail once, one job per mail with
# an order number.  2000 + 1000 + 1000 generated mails, batch_size = 50;
# then the IMAP server killed while one 20 MB mail is coming in.
. "$TOP_SRCDIR/tests/lib.sh"
pg_setup
dovecot_setup

imap_conf "$T/fetch.conf" "$IMAP_PORT" secret "batch_size = 50"
IKASQ_CONFIG=$T/fetch.conf; export IKASQ_CONFIG

mails() { sql "SELECT count(*) FROM mails"; }
last_uid() {
	_l=$(sql "SELECT last_uid FROM imap_state WHERE account = 'shop' AND mailbox = 'INBOX'")
	echo "${_l:-0}"
}
# uid_ids N: the Message-IDs of INBOX's UIDs 1..N, as the server has them
uid_ids() {
	python3 - "$IMAP_PORT" "$1" <<-'PY'
	import imaplib, re, sys
	c = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
	c.login("shop", "secret")
	c.select("INBOX", readonly=True)
	n = int(sys.argv[2])
	if n > 0:
	    typ, data = c.uid("FETCH", "1:%d" % n,
	                      "(UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
	    for item in data:
	        if isinstance(item, tuple):
	            uid = int(re.search(rb"UID (\d+)", item[0]).group(1))
	            m = re.search(rb"<([^>]*)>", item[1])
	            if uid <= n and m:
	                print(m.group(1).decode())
	c.logout()
	PY
}
stored_ids() { sql "SELECT btrim(message_id, '<>') FROM mails"; }
# watermark_check WHAT: the mails stored are exactly those of UIDs up to
# the watermark
watermark_check() {
	_l=$(last_uid)
	uid_ids "$_l" | sort >"$T/want"
	stored_ids | sort >"$T/got"
	is "$(mails)" "$_l" "$1: the mails stored are as many as the watermark says ($_l)"
	if cmp -s "$T/want" "$T/got"; then
		ok "$1: they are exactly the mails of UIDs 1..$_l"
	else
		not_ok "$1: they are exactly the mails of UIDs 1..$_l"
		diag "$(diff "$T/want" "$T/got" | head -n 10)"
	fi
}
# no_fetch_session: wait until the killed fetch's database session is gone:
# its advisory lock on shop/INBOX would make the next run skip the mailbox
no_fetch_session() {
	for _i in $(seq 100); do
		[ "$(sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1
		    AND classid = ((hashtextextended('ikasq.imap:$T_SCHEMA:shop/INBOX', 0) >> 32) & 4294967295)::text::oid
		    AND objid = (hashtextextended('ikasq.imap:$T_SCHEMA:shop/INBOX', 0) & 4294967295)::text::oid")" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}
# dovecot_kill: the private Dovecot dies at once, its IMAP sessions with it
# (dovecot_stop is a graceful stop: Dovecot lets a running session finish
# the command it is answering).  Only the processes of this test's Dovecot,
# by pid: its master and the master's children.
dovecot_kill() {
	_m=$(cat "$D/run/master.pid")
	_kids=$(ps -o pid= --ppid "$_m")
	kill -9 "$_m" $_kids 2>/dev/null
	for _i in $(seq 100); do kill -0 "$_m" 2>/dev/null || break; sleep 0.05; done
	rm -f "$D/run/master.pid"
}
# wait_exit PID [SECONDS]: its exit status; one still running SECONDS (30)
# later is hung, and killed (status 137)
wait_exit() {
	for _i in $(seq $((${2:-30} * 10))); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$1" 2>/dev/null; then
		diag "ikasq fetch (pid $1) still running ${2:-30} s later: hung; killing it" \
		    "$(top -b -n 1 -p "$1" | tail -n 2)"
		kill -9 "$1"
	fi
	wait "$1"
}
# wait_for_more N: poll until more than N mails are stored (at most 20 s)
wait_for_more() {
	for _i in $(seq 2000); do
		[ "$(mails)" -gt "$1" ] && return 0
		kill -0 "$fetch_pid" 2>/dev/null || return 1
		sleep 0.01
	done
	return 1
}
# all_once N: N mails, each stored once, one job per mail with an order
all_once() {
	is "$(mails)" "$1" "$2: $1 mails"
	is "$(sql "SELECT count(DISTINCT sha256) FROM mails")" "$1" "$2: $1 distinct contents"
	is "$(sql "SELECT count(DISTINCT message_id) FROM mails")" "$1" "$2: $1 distinct Message-IDs"
	is "$(last_uid)" "$1" "$2: the watermark is at UID $1"
	is "$(sql "SELECT count(*) FROM mails WHERE cardinality(order_numbers) > 0")" "$1" "$2: every mail has an order number"
	is "$(sql "SELECT count(*) FROM job_queue WHERE job_type = 'fetch_ikas_order'")" "$1" "$2: one job per mail"
	is "$(sql "SELECT count(*) FROM (SELECT payload->>'mail_id' FROM job_queue GROUP BY 1 HAVING count(*) > 1) d")" 0 "$2: no mail has two jobs"
	is "$(sql "SELECT count(*) FROM job_queue j WHERE NOT EXISTS (SELECT 1 FROM mails m WHERE m.id::text = j.payload->>'mail_id')")" 0 "$2: every job names a stored mail"
}

# --- 1. SIGKILL in the middle --------------------------------------------------
imap append-many INBOX 2000 || bail "append-many"
is "$(imap status INBOX | grep -o 'MESSAGES [0-9]*')" "MESSAGES 2000" "2000 mails in INBOX"
spawn "$IKASQ" -v fetch 2>"$T/fetch1.err"
fetch_pid=$!
wait_for_more 200
kill -9 "$fetch_pid" 2>/dev/null
wait "$fetch_pid" 2>/dev/null
rc=$?
is "$rc" 137 "the fetch was killed with SIGKILL"
n=$(mails)
check "it was killed in the middle (200 < $n < 2000 stored)" [ "$n" -gt 200 -a "$n" -lt 2000 ]
check "the killed run's session is gone" no_fetch_session
watermark_check "after SIGKILL"
check "the watermark is at the end of a batch of 50 ($(last_uid))" [ $(($(last_uid) % 50)) = 0 ]
exits 0 "the next run" "$IKASQ" -v fetch
like "$err" "$((2000 - n)) messages fetched: $((2000 - n)) new, 0 already stored" "fetches the other $((2000 - n)), nothing again"
all_once 2000 "after the rerun"

# --- 2. the IMAP server killed in the middle ---------------------------------------
imap append-many INBOX 1000 || bail "append-many"
spawn "$IKASQ" -v fetch 2>"$T/fetch2.err"
fetch_pid=$!
wait_for_more 2200
dovecot_kill
wait_exit "$fetch_pid"
rc=$?
is "$rc" 75 "the IMAP server killed mid-fetch: exit 75"
[ "$rc" = 75 ] || diag "$(cat "$T/fetch2.err")"
n=$(mails)
check "it stopped in the middle (2200 < $n < 3000 stored)" [ "$n" -gt 2200 -a "$n" -lt 3000 ]
dovecot_start || bail "dovecot did not start again"
watermark_check "after the IMAP server was killed"
exits 0 "the next run" "$IKASQ" -v fetch
like "$err" "$((3000 - n)) messages fetched: $((3000 - n)) new, 0 already stored" "fetches the other $((3000 - n))"
all_once 3000 "after the IMAP server is back"

# --- 3. the database stops in the middle -----------------------------------------
if [ "$PG_OWN" = yes ]; then
	# The stop must land inside a batch's transaction: a trigger holds the
	# insert of UID 3311 (the 11th of the batch 3301..3350, the 311th mail of
	# this append) until the server is stopped under it.
	imap append-many INBOX 1000 || bail "append-many"
	gen311=$(uid_ids 3311 | tail -n 1)
	sql "CREATE FUNCTION t_hold() RETURNS trigger LANGUAGE plpgsql AS \$\$
	BEGIN PERFORM pg_sleep(60); RETURN NEW; END \$\$;
	CREATE TRIGGER t_hold BEFORE INSERT ON mails FOR EACH ROW
	    WHEN (btrim(NEW.message_id, '<>') = '$gen311') EXECUTE FUNCTION t_hold()"
	spawn "$IKASQ" -v fetch 2>"$T/fetch3.err"
	fetch_pid=$!
	held=no
	for i in $(seq 300); do
		[ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'")" = 1 ] && { held=yes; break; }
		sleep 0.05
	done
	is "$held" yes "the fetch is inside the transaction of the batch 3301..3350"
	pg_stop fast
	started=$(date +%s)
	wait_exit "$fetch_pid"
	rc=$?
	took=$(($(date +%s) - started))
	is "$rc" 75 "the database stopped mid-fetch: exit 75"
	check "promptly (${took} s)" [ "$took" -le 10 ]
	like "$(cat "$T/fetch3.err")" "UID 3311: lost connection to database" "names the mail it was storing"
	pg_start || bail "PostgreSQL did not start again"
	sql "DROP TRIGGER t_hold ON mails; DROP FUNCTION t_hold()"
	is "$(mails)" 3300 "the batches before it are stored, the interrupted one is not"
	watermark_check "after the database stopped"
	is "$(sed -n 's/.* fetched: \([0-9]*\) new.*/\1/p' "$T/fetch3.err")" 300 "the run's summary counts the 300 mails it stored, not the rolled-back batch"
	is "$(sed -n 's/.* \([0-9]*\) jobs\{0,1\} queued.*/\1/p' "$T/fetch3.err")" 300 "and the 300 jobs it queued"
	exits 0 "the next run" "$IKASQ" -v fetch
	like "$err" "700 messages fetched: 700 new, 0 already stored, 700 jobs queued" "fetches the other 700"
	all_once 4000 "after the database is back"
else
	ok "# skip the database cannot be stopped: IKASQ_TEST_DATABASE_URL is a shared server"
fi

# --- 4. the IMAP server killed while a big mail is coming in -----------------------
# 20 MB (under the default max_size of 25M).  strace slows ikasq's every
# recvfrom by 10 ms, so the literal takes seconds to come in; once 20 chunks
# of it have been read, Dovecot is killed and strace lets go of ikasq: the
# connection ends in the middle of the literal, as when the server dies on
# a slow link.
if command -v strace >/dev/null 2>&1; then
	python3 -c '
import sys
sys.stdout.write("From: Musteri <big@example.com>\r\nTo: destek@magaza.com\r\n"
    "Subject: Siparis 777001 nerede?\r\nMessage-ID: <big-t2002@example.com>\r\n\r\n"
    + ("y" * 76 + "\r\n") * 262144)' >"$T/big.eml"
	imap append INBOX "$T/big.eml" >/dev/null || bail "append big"
	n0=$(mails)
	lu0=$(last_uid)
	# ikasq starts stopped, so that strace holds it from its first call
	# (LeakSanitizer cannot work under ptrace: off for this one, in a
	# sanitizer build)
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	    spawn sh -c 'kill -STOP $$; exec "$0" -v fetch' "$IKASQ" 2>"$T/fetch4.err"
	fetch_pid=$!
	for i in $(seq 100); do
		[ "$(awk '{ print $3 }' "/proc/$fetch_pid/stat" 2>/dev/null)" = T ] && break
		sleep 0.02
	done
	spawn strace -qq -f -p "$fetch_pid" -e trace=recvfrom \
	    -e inject=recvfrom:delay_exit=10000 -o "$T/strace.log" 2>"$T/strace.err"
	strace_pid=$!
	traced=no
	for i in $(seq 100); do
		grep -q 'TracerPid:.[1-9]' "/proc/$fetch_pid/status" && { traced=yes; break; }
		sleep 0.02
	done
	kill -CONT "$fetch_pid"
	if [ "$traced" = no ]; then
		# e.g. kernel.yama.ptrace_scope forbids attaching to a sibling
		wait "$fetch_pid"
		ok "# skip strace cannot attach to ikasq: $(cat "$T/strace.err")"
		done_testing
		exit 0
	fi
	chunks=0
	for i in $(seq 600); do
		chunks=$(grep -c '= 65536 ' "$T/strace.log" 2>/dev/null)
		[ "${chunks:-0}" -ge 20 ] && break
		sleep 0.05
	done
	check "ikasq is reading the big mail (${chunks:-0} chunks of 64 KiB)" [ "${chunks:-0}" -ge 20 ]
	dovecot_kill
	kill -TERM "$strace_pid"	# strace detaches; ikasq runs on untraced
	wait "$strace_pid" 2>/dev/null
	started=$(date +%s)
	wait_exit "$fetch_pid" 20
	rc=$?
	took=$(($(date +%s) - started))
	is "$rc" 75 "the IMAP server killed in the middle of a 20 MB mail: exit 75 (no hang)"
	check "promptly (${took} s)" [ "$took" -le 10 ]
	[ "$rc" = 75 ] || diag "$(cat "$T/fetch4.err")"
	dovecot_start || bail "dovecot did not start again"
	check "the killed run's session is gone" no_fetch_session
	is "$(mails)" "$n0" "the big mail is not stored"
	is "$(last_uid)" "$lu0" "the watermark is before it"
	exits 0 "the next run" "$IKASQ" -v fetch
	is "$(sql "SELECT count(*) FROM mails WHERE sha256 = '$(sha256sum <"$T/big.eml" | cut -d' ' -f1)'")" 1 "stores it once, whole"
	is "$(mails)" $((n0 + 1)) "and nothing else"
	is "$(last_uid)" $((lu0 + 1)) "the watermark moves past it"
else
	ok "# skip strace is not installed"
fi
done_testing
