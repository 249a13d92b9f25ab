#!/bin/sh
# ikasq fetch against a server that misbehaves (tests/fake-imap.py): first
# the fake serving correctly (it is faithful enough: every message stored,
# byte for byte), then random bytes for an answer to UID SEARCH, the
# connection closed in the middle of a message's literal, a FETCH never
# answered.  Each time ikasq exits 75 (no crash, no 0) within a bounded
# time, commits nothing of the broken batch (the batches before it are
# stored and the watermark stops there), and once the server behaves, the
# next run stores the rest: every message once
. "$TOP_SRCDIR/tests/lib.sh"
pg_setup
FAKE=$TOP_SRCDIR/tests/fake-imap.py
FPORT=0

# fake MODE N [--bad-uid U]: (re)start the fake on the same port
fake() {
	fake_stop
	rm -f "$T/fake.port"
	spawn python3 "$FAKE" --port "$FPORT" --port-file "$T/fake.port" \
	    --log "$T/fake.log" "$@" >/dev/null
	FAKE_PID=$!
	for _i in $(seq 100); do [ -s "$T/fake.port" ] && break; sleep 0.05; done
	[ -s "$T/fake.port" ] || bail "fake-imap.py did not start"
	FPORT=$(cat "$T/fake.port")
	echo "--- fake $*" >>"$T/fake.log"
}
fake_stop() {
	[ -n "${FAKE_PID:-}" ] || return 0
	kill "$FAKE_PID" 2>/dev/null
	wait "$FAKE_PID" 2>/dev/null
	FAKE_PID=
}
conf() { imap_conf "$T/fetch.conf" "$FPORT" secret "batch_size = 5" "timeout = 5s"; }
IKASQ_CONFIG=$T/fetch.conf; export IKASQ_CONFIG
mails() { sql "SELECT count(*) FROM mails"; }
last_uid() {
	_l=$(sql "SELECT last_uid FROM imap_state WHERE account = 'shop' AND mailbox = 'INBOX'")
	echo "${_l:-none}"
}
# fetch_timed: $IKASQ fetch, with $rc, $out, $err and $took (seconds); a
# run that hangs is killed after 20 s (rc 137)
fetch_timed() {
	_s=$(date +%s.%N)
	run timeout -s KILL 20 "$IKASQ" -v fetch
	took=$(awk -v a="$_s" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	[ "$rc" = 137 ] && diag "ikasq fetch hung: killed after 20 s"
}
within() { awk -v t="$took" -v m="$1" 'BEGIN { exit !(t <= m) }'; }
# stored_are N: the stored mails are exactly the fake's UIDs 1..N, byte for
# byte, each once, with a job each
stored_are() {
	is "$(mails)" "$1" "$2: $1 mails"
	for _u in $(seq "$1"); do
		python3 "$FAKE" dump "$_u" | sha256sum | cut -d' ' -f1
	done | sort >"$T/want"
	sql "SELECT sha256 FROM mails" | sort >"$T/got"
	if cmp -s "$T/want" "$T/got"; then
		ok "$2: they are UIDs 1..$1, byte for byte"
	else
		not_ok "$2: they are UIDs 1..$1, byte for byte"
		diag "$(diff "$T/want" "$T/got" | head -n 6)"
	fi
	is "$(last_uid)" "$1" "$2: the watermark is at UID $1"
	is "$(sql "SELECT count(*) FROM job_queue")" "$1" "$2: one job per mail"
	is "$(sql "SELECT count(*) FROM (SELECT payload->>'mail_id' FROM job_queue GROUP BY 1 HAVING count(*) > 1) d")" 0 "$2: none twice"
}

# --- the fake, behaving ---------------------------------------------------------
fake ok 10
conf
fetch_timed
is "$rc" 0 "ok: fetch 10 messages from the fake (exit 0)"
like "$err" "10 messages fetched: 10 new, 0 already stored, 10 jobs queued" "10 new"
stored_are 10 "ok"
is "$(sql "SELECT DISTINCT source FROM mails")" "imap:shop/INBOX" "source imap:shop/INBOX"
is "$(sql "SELECT message_id FROM mails WHERE sha256 = '$(python3 "$FAKE" dump 7 | sha256sum | cut -d' ' -f1)'")" "fake-7@example.com" "parsed: the Message-ID of UID 7"
is "$(sql "SELECT uidvalidity FROM imap_state")" 1700000001 "the fake's UIDVALIDITY is recorded"
if grep -q 'C: [0-9A-Za-z]* UID FETCH 6:10 (UID BODY.PEEK\[\])' "$T/fake.log"; then
	ok "batches of 5: UID FETCH 6:10 BODY.PEEK[]"
else
	not_ok "batches of 5: UID FETCH 6:10 BODY.PEEK[]"; diag "$(grep 'C:' "$T/fake.log")"
fi
fetch_timed
is "$rc" 0 "ok again: nothing new (exit 0)"
like "$err" "0 messages fetched" "0 fetched"

# --- garbage for an answer to UID SEARCH ----------------------------------------------
fake garbage-after-select 20
fetch_timed
is "$rc" 75 "garbage-after-select: exit 75"
like "$err" "cannot list new messages on '127.0.0.1:$FPORT': the connection broke off, or the server sent something that is not IMAP" "says the server sent something that is not IMAP"
check "within the 5 s timeout (took $took s)" within 5
is "$(mails)" 10 "nothing more stored"
is "$(last_uid)" 10 "the watermark did not move"
fake ok 20
fetch_timed
is "$rc" 0 "the fake behaves again: exit 0"
stored_are 20 "after garbage"

# --- the connection closed in the middle of a literal ---------------------------------
# batches 21..25 and 26..30; the literal of UID 28 breaks off: 26 and 27
# came whole, but their batch is not committed
fake close-mid-literal 30 --bad-uid 28
fetch_timed
is "$rc" 75 "close-mid-literal: exit 75"
like "$err" "cannot fetch from '127.0.0.1:$FPORT'" "names the server"
check "within the 5 s timeout (took $took s)" within 5
is "$(mails)" 25 "the batch before is stored, nothing of the broken batch"
is "$(last_uid)" 25 "the watermark is at the end of the last whole batch"
is "$(sql "SELECT count(*) FROM mails WHERE message_id IN ('fake-26@example.com', 'fake-27@example.com')")" 0 "UIDs 26 and 27, which came whole, wait with their batch"
fake ok 30
fetch_timed
is "$rc" 0 "the fake behaves again: exit 0"
like "$err" "5 messages fetched: 5 new" "the 5 of the broken batch come now"
stored_are 30 "after close-mid-literal"

# --- a FETCH never answered -------------------------------------------------------------
# the FETCH times out after 5 s; ikasq then says LOGOUT and waits for that
# too, so up to two timeouts
fake slow 40 --bad-uid 38
fetch_timed
is "$rc" 75 "slow: exit 75"
like "$err" "cannot fetch from '127.0.0.1:$FPORT': the connection was closed or timed out" "says timed out"
check "after the 5 s timeout, not long after it (took $took s)" within 12
check "not before it (took $took s)" awk -v t="$took" 'BEGIN { exit !(t >= 4.5) }'
is "$(mails)" 35 "the batch before is stored, nothing of the broken batch"
is "$(last_uid)" 35 "the watermark is at the end of the last whole batch"
fake ok 40
fetch_timed
is "$rc" 0 "the fake behaves again: exit 0"
stored_are 40 "after slow"
fetch_timed
is "$rc" 0 "once more"
like "$err" "0 messages fetched" "nothing left"
fake_stop
done_testing
