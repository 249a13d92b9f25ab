#!/bin/sh
# ikasq fetch (cron mode) against a real Dovecot: new mail stored once, the
# watermark in PostgreSQL, PEEK leaves mail unread, after_ingest actions,
# UIDVALIDITY change, overlapping runs, bad accounts and mailboxes
. "$TOP_SRCDIR/tests/lib.sh"
pg_setup
dovecot_setup
C=$TOP_SRCDIR/tests/data/corpus
PASS='S3cret-Pass-9z'
echo "shop:{PLAIN}$PASS" >"$D/users"

conf() { imap_conf "$T/fetch.conf" "$IMAP_PORT" "$PASS" "$@"; }
conf ""
IKASQ_CONFIG=$T/fetch.conf; export IKASQ_CONFIG
mails() { sql "SELECT count(*) FROM mails"; }

ls "$C"/*.eml | head -n 5 >"$T/five"
IMAP_PASS=$PASS imap append INBOX $(cat "$T/five") >/dev/null
exits 0 "fetch five new mails" "$IKASQ" -v fetch
is "$(mails)" 5 "five mails stored"
is "$(sql "SELECT DISTINCT source FROM mails")" "imap:shop/INBOX" "their source names account and mailbox"
is "$(sql "SELECT uidvalidity > 0, last_uid FROM imap_state WHERE account = 'shop' AND mailbox = 'INBOX'")" "t|5" "the watermark is at UID 5"
jobs_want=$(for f in $(cat "$T/five"); do grep "^$(basename "$f")	" "$C/labels.tsv"; done | awk -F'\t' '$2 != "-"' | wc -l | tr -d ' ')
is "$(sql "SELECT count(*) FROM job_queue WHERE priority = 5")" "$jobs_want" "a priority-5 job per mail with an order"
is "$(IMAP_PASS=$PASS imap flags INBOX | grep -c Seen)" 0 "BODY.PEEK[]: the mails are still unread"
like "$err" "5 messages fetched: 5 new" "a summary line"

exits 0 "fetch again" "$IKASQ" -v fetch
is "$(mails)" 5 "nothing stored twice"
like "$err" "0 messages fetched" "nothing fetched"
IMAP_PASS=$PASS imap append INBOX "$C/010-"*.eml "$C/011-"*.eml >/dev/null
exits 0 "two more" "$IKASQ" fetch
is "$(mails)" 7 "seven mails"
is "$(sql "SELECT last_uid FROM imap_state")" 7 "the watermark moved to 7"
is "$err" "" "from cron (no terminal, no -v), nothing on stderr when all is well"

# oversize: headers only, a note, and the watermark moves on
python3 -c "print('From: big@example.com\r\nSubject: Siparis no 445566\r\nMessage-ID: <big@x>\r\n\r\n' + 'x' * 200 + '\r\n' * 0 + ('y' * 76 + '\r\n') * 100)" >"$T/big.eml"
conf "[ingest]
max_size = 2k"
IMAP_PASS=$PASS imap append INBOX "$T/big.eml" >/dev/null
exits 0 "a message over max_size" "$IKASQ" fetch
is "$(sql "SELECT subject, body_text, size_bytes > 2048, note LIKE '%over the limit of 2048; only its headers were read' FROM mails WHERE message_id = 'big@x'")" \
   "Siparis no 445566||t|t" "stored by its headers with a note"
is "$(sql "SELECT last_uid FROM imap_state")" 8 "the watermark moved past it"
is "$(sql "SELECT count(*) FROM job_queue WHERE payload->'order_numbers' ? '445566'")" 1 "its order (in the subject) is queued"

# after_ingest = seen, then move:Archive
conf "after_ingest = seen"
IMAP_PASS=$PASS imap append INBOX "$C/012-"*.eml >/dev/null
exits 0 "after_ingest = seen" "$IKASQ" fetch
is "$(IMAP_PASS=$PASS imap flags INBOX | awk '$1 == 9' | grep -c Seen)" 1 "the new mail is marked seen after it is stored"
is "$(IMAP_PASS=$PASS imap flags INBOX | awk '$1 < 9' | grep -c Seen)" 0 "older mail is left alone"
IMAP_PASS=$PASS imap create Archive
conf "after_ingest = move:Archive"
IMAP_PASS=$PASS imap append INBOX "$C/013-"*.eml "$C/014-"*.eml >/dev/null
exits 0 "after_ingest = move:Archive" "$IKASQ" fetch
is "$(IMAP_PASS=$PASS imap uids Archive | wc -l | tr -d ' ')" 2 "the two new mails are in Archive"
is "$(IMAP_PASS=$PASS imap uids INBOX | wc -l | tr -d ' ')" 9 "and gone from INBOX"
is "$(mails)" 11 "stored once each"

# a mailbox that does not exist: named, the others still fetched
conf "mailboxes = INBOX; Nope; Archive"
IMAP_PASS=$PASS imap append INBOX "$C/015-"*.eml >/dev/null
exits 65 "a mailbox that does not exist" "$IKASQ" fetch
like "$err" "cannot open mailbox 'Nope' on '127.0.0.1:$IMAP_PORT'" "names it"
is "$(mails)" 12 "INBOX was still fetched"
is "$(sql "SELECT count(*) FROM imap_state WHERE mailbox = 'Archive'")" 1 "and Archive after it"

# UIDVALIDITY changes (the mailbox is recreated with the same mail)
conf ""
IMAP_PASS=$PASS imap create Again
IMAP_PASS=$PASS imap append Again "$C/016-"*.eml "$C/017-"*.eml >/dev/null
conf "mailboxes = Again"
exits 0 "fetch a second mailbox" "$IKASQ" fetch
v1=$(sql "SELECT uidvalidity FROM imap_state WHERE mailbox = 'Again'")
n1=$(mails)
IMAP_PASS=$PASS imap delete Again
sleep 1
IMAP_PASS=$PASS imap create Again
IMAP_PASS=$PASS imap append Again "$C/016-"*.eml "$C/017-"*.eml "$C/018-"*.eml >/dev/null
exits 0 "fetch after UIDVALIDITY changed" "$IKASQ" fetch
v2=$(sql "SELECT uidvalidity FROM imap_state WHERE mailbox = 'Again'")
check "the new UIDVALIDITY is recorded ($v1 -> $v2)" [ "$v1" != "$v2" ]
like "$err" "UIDVALIDITY changed" "and reported"
is "$(mails)" "$((n1 + 1))" "only the one new mail is stored; the others are recognised"
is "$(sql "SELECT count(*) FROM job_queue WHERE payload->>'subject' IS NOT NULL GROUP BY payload->>'mail_id' HAVING count(*) > 1")" "" "no job was queued twice"

# two runs at once: the second leaves a mailbox the first is fetching
conf ""
IMAP_PASS=$PASS imap append INBOX "$C/019-"*.eml >/dev/null
PGOPTIONS="-c search_path=$T_SCHEMA" psql -X -q "$T_CONNINFO" \
    -c "SELECT pg_advisory_lock(hashtextextended('ikasq.imap:$T_SCHEMA:shop/INBOX', 0))" \
    -c "SELECT pg_sleep(3)" >/dev/null 2>&1 &
sleep 1
exits 0 "fetch while another run holds INBOX" "$IKASQ" -v fetch
like "$err" "another ikasq fetch is working on it; skipped" "it says so"
is "$(sql "SELECT count(*) FROM mails WHERE source = 'imap:shop/INBOX' AND received_at > now() - interval '2 seconds'")" 0 "and fetches nothing"
wait
exits 0 "once it is free" "$IKASQ" -v fetch
like "$err" "1 message fetched: 1 new" "the mail comes in"

# wrong password: one line, 77, one attempt only
sed -i "s/^password = .*/password = wrong-one/" "$T/fetch.conf"
n0=$(grep -c "auth failed\|Authentication failed\|auth_failed" "$D/log/dovecot.log")
exits 77 "a wrong password" "$IKASQ" fetch
is "$(printf '%s\n' "$err" | grep -c "^ikasq: cannot log in to '127.0.0.1:$IMAP_PORT' as 'shop': login refused")" 1 "one line naming the server and the user"
unlike "$err" "wrong-one" "without the password"
sleep 0.5
n1=$(grep -c "auth failed\|Authentication failed\|auth_failed" "$D/log/dovecot.log")
check "one login attempt, no retry storm ($n0 -> $n1)" [ $((n1 - n0)) -le 1 ]

# plaintext to a remote host is refused unless allowed
conf ""
sed -i "s/^host = .*/host = imap.example.com/" "$T/fetch.conf"
exits 78 "tls = none to a non-loopback host" "$IKASQ" fetch
like "$err" "tls = none would send the password in clear text to 'imap.example.com'" "says why"
printf '[imap:x]\nuser = a\n' >"$T/nohost.conf"
exits 78 "an account without a host" "$IKASQ" -c "$T/nohost.conf" fetch
exits 78 "no account at all" "$IKASQ" -c /dev/null fetch
exits 78 "an account that is not configured" "$IKASQ" fetch --account other

# secrets never appear, even in the most verbose log
conf ""
"$IKASQ" -v fetch >"$T/v.log" 2>&1
"$IKASQ" -v config check >>"$T/v.log" 2>&1
unlike "$(cat "$T/v.log")" "$PASS" "the password is not in -v output"

# the database is down: 75, and the next run catches up
IMAP_PASS=$PASS imap append INBOX "$C/020-"*.eml >/dev/null
pg_stop fast
exits 75 "the database is down" "$IKASQ" fetch
pg_start || bail "restart"
exits 0 "the next run" "$IKASQ" -v fetch
like "$err" "1 message fetched: 1 new" "catches up"
# a mail the database refuses (a trigger): the batch is stored one mail at
# a time, that one is named and left in INBOX, the others go on; exit 65
conf "after_ingest = move:Archive"
sql "CREATE FUNCTION t_refuse() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN RAISE EXCEPTION 'refused for the test' USING ERRCODE = 'check_violation'; END \$\$;
CREATE TRIGGER t_refuse BEFORE INSERT ON mails FOR EACH ROW
    WHEN (NEW.message_id LIKE '%CAK6iL7qqIsexvRlGoWlurWoqvR04a4M%') EXECUTE FUNCTION t_refuse()"
n0=$(mails)
IMAP_PASS=$PASS imap append INBOX "$C/021-"*.eml "$C/022-"*.eml "$C/023-"*.eml >/dev/null
last3=$(IMAP_PASS=$PASS imap uids INBOX | tail -n 3 | tr '\n' ' ')
bad=$(echo $last3 | cut -d' ' -f2)
exits 65 "a mail refused by the database" "$IKASQ" -v fetch
like "$err" "shop/INBOX UID $bad: not stored, left on the server: .*refused for the test" "names it, with the server's reason"
like "$err" ", 1 refused by the database \\(left on the server\\)" "the summary counts it"
is "$(mails)" "$((n0 + 2))" "the two others of its batch are stored"
is "$(IMAP_PASS=$PASS imap uids INBOX | tail -n 1)" "$bad" "it stays in INBOX, the others are moved"
is "$(sql "SELECT last_uid FROM imap_state WHERE mailbox = 'INBOX'")" "$(echo $last3 | cut -d' ' -f3)" "the watermark moves past it"
sql "DROP TRIGGER t_refuse ON mails"
exits 0 "the next run" "$IKASQ" fetch
is "$(mails)" "$((n0 + 2))" "does not hold on to it"
conf ""

dovecot_stop
exits 75 "the IMAP server is down" "$IKASQ" fetch
like "$err" "cannot connect to '127.0.0.1:$IMAP_PORT'" "names the server"
done_testing
