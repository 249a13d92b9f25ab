#!/bin/sh
# ikasq fetch --idle: a new mail is stored within a second of its APPEND;
# a restarted server is reconnected to; SIGTERM ends it cleanly
. "$TOP_SRCDIR/tests/lib.sh"
pg_setup
dovecot_setup
C=$TOP_SRCDIR/tests/data/corpus
imap_conf "$T/idle.conf" "$IMAP_PORT" secret "mailboxes = INBOX; Orders"
IKASQ_CONFIG=$T/idle.conf; export IKASQ_CONFIG
imap create Orders
imap append INBOX "$C/001-"*.eml >/dev/null

# wait_for SQL VALUE SECONDS: poll until the query gives VALUE
wait_for() {
	_end=$(( $(date +%s%N) + $3 * 1000000000 ))
	while [ "$(date +%s%N)" -lt "$_end" ]; do
		[ "$(sql "$1")" = "$2" ] && return 0
		sleep 0.02
	done
	return 1
}
log_has() { grep -q "$1" "$T/idle.log"; }
wait_log() {
	for _i in $(seq $(( $2 * 20 ))); do log_has "$1" && return 0; sleep 0.05; done
	return 1
}

spawn "$IKASQ" fetch --idle 2>"$T/idle.log"
daemon=$!
check "the mail already there is stored at start" wait_for "SELECT count(*) FROM mails" 1 10
check "it waits on both mailboxes" wait_log "Orders: waiting for new mail (IDLE)" 10
check "and says so for INBOX too" log_has "INBOX: waiting for new mail (IDLE)"

worst=0
for i in 1 2 3; do
	f=$(ls "$C"/00$((i + 1))-*.eml)
	imap append INBOX "$f" >/dev/null
	t0=$(date +%s%N)	# the APPEND is done: the clock starts
	if wait_for "SELECT count(*) FROM mails" $((i + 1)) 5; then
		ms=$(( ($(date +%s%N) - t0) / 1000000 ))
		[ "$ms" -gt "$worst" ] && worst=$ms
	else
		worst=99999
	fi
done
check "each APPEND is stored within a second (slowest: $worst ms)" [ "$worst" -lt 1000 ]
t0=$(date +%s%N)
imap append Orders "$C/007-"*.eml >/dev/null
check "the second mailbox is watched too" wait_for "SELECT count(*) FROM mails WHERE source = 'imap:shop/Orders'" 1 5
is "$(sql "SELECT count(*) FROM job_queue WHERE payload->>'mail_id' = (SELECT id::text FROM mails WHERE source = 'imap:shop/Orders')")" 1 "its job is queued"

# the server restarts under the daemon
dovecot_stop
check "the lost connection is noticed" wait_log "reconnecting in" 20 ||
	diag "the daemon said:" "$(cat "$T/idle.log")"
sleep 1
dovecot_start || bail "dovecot restart"
check "it connects again" wait_log "INBOX: connected to" 10
n=$(sql "SELECT count(*) FROM mails")
imap append INBOX "$C/010-"*.eml >/dev/null
check "and mail arriving after the restart is stored" wait_for "SELECT count(*) FROM mails" $((n + 1)) 15

# the database restarts under the daemon
pg_stop fast
imap append INBOX "$C/011-"*.eml >/dev/null
sleep 2
pg_start || bail "pg restart"
check "mail that came while the database was down is stored once it is back" wait_for "SELECT count(*) FROM mails" $((n + 2)) 20
is "$(sql "SELECT count(*) - count(DISTINCT sha256) FROM mails")" 0 "nothing stored twice"
check "the daemon is still running" kill -0 $daemon

kill -TERM $daemon
code=timeout
for i in $(seq 100); do
	if ! kill -0 $daemon 2>/dev/null; then wait $daemon; code=$?; break; fi
	sleep 0.05
done
is "$code" 0 "SIGTERM: it stops with exit 0"
check "and says what it did" log_has "stopped:"
unlike "$(cat "$T/idle.log")" "secret" "the password never reaches the log"
done_testing
