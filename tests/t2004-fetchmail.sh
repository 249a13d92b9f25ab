#!/bin/sh
# The real fetchmail as the fetcher and `ikasq ingest` as its MDA, against
# the private Dovecot: every mail stored once and its job queued once;
# fetchall delivers everything again and nothing is stored twice, because
# with `set invisible` fetchmail's redelivery is byte-identical (no Received
# header; CRLF becomes LF, the same way every time); while the database is
# down the MDA exits 75, fetchmail says so and leaves the mail on the
# server unread (and, without keep, undeleted), and a run after the
# database is back stores it.  Without `set invisible` each delivery gets a
# Received header with its own time, and a redelivery is stored again.
. "$TOP_SRCDIR/tests/lib.sh"
command -v fetchmail >/dev/null 2>&1 || skip_all "fetchmail is not installed"
pg_setup
dovecot_setup
C=$TOP_SRCDIR/tests/data/corpus

# fmrc FILE OPTIONS: a fetchmailrc for the private Dovecot, plaintext on
# loopback (sslproto '' turns off opportunistic STARTTLS; this Dovecot
# offers none anyway), ikasq ingest as the MDA
fmrc() {
	cat >"$1" <<-RC
	set invisible
	set no syslog
	poll 127.0.0.1 with proto IMAP port $IMAP_PORT
	    user "shop" there with password "secret" is root here
	    options $2 no rewrite sslproto ''
	    mda "env IKASQ_CONFIG=$IKASQ_CONFIG $IKASQ ingest"
	RC
	chmod 600 "$1"
}
fmrc "$T/fetchmailrc" "keep fetchall"
fmrc "$T/fetchmailrc-new" "keep"
fmrc "$T/fetchmailrc-delete" "nokeep"
# fm RCFILE: fetchmail once, in the foreground; sets $rc, $out, $err
fm() {
	run env HOME="$T" fetchmail -f "$1" --nodetach --pidfile "$T/fm.pid"
}
mails() { sql "SELECT count(*) FROM mails"; }
jobs() { sql "SELECT count(*) FROM job_queue WHERE job_type = 'fetch_ikas_order'"; }
# the SHA-256 of FILE as fetchmail hands it on: CRLF -> LF
lf_sha() { python3 -c 'import hashlib, sys; d = open(sys.argv[1], "rb").read().replace(b"\r\n", b"\n"); print(hashlib.sha256(d).hexdigest())' "$1"; }

ls "$C"/*.eml | head -n 20 >"$T/twenty"
imap append INBOX $(cat "$T/twenty") >/dev/null
for f in $(cat "$T/twenty"); do lf_sha "$f"; done | sort >"$T/want-sha"
for f in $(cat "$T/twenty"); do grep -im1 '^message-id:' "$f" | tr -d '\r' | sed 's/^[^<]*<\([^>]*\)>.*/\1/'; done | sort >"$T/want-ids"
jobs_want=$(for f in $(cat "$T/twenty"); do grep "^$(basename "$f")	" "$C/labels.tsv"; done | awk -F'\t' '$2 != "-"' | wc -l | tr -d ' ')

# --- first run: 20 new mails --------------------------------------------------------
fm "$T/fetchmailrc"
is "$rc" 0 "fetchmail delivers 20 mails (exit 0: messages retrieved)"
[ "$rc" = 0 ] || diag "$out" "$err"
is "$(printf '%s\n' "$out" "$err" | grep -c 'reading message shop@127.0.0.1:[0-9]* of 20')" 20 "it reads all 20"
unlike "$out$err" "MDA returned" "the MDA accepted each one"
is "$(mails)" 20 "20 mails stored"
sql "SELECT btrim(message_id, '<>') FROM mails" | sort >"$T/got-ids"
check "they are the 20 mails of INBOX, by Message-ID" cmp -s "$T/want-ids" "$T/got-ids"
sql "SELECT sha256 FROM mails" | sort >"$T/got-sha"
check "stored as fetchmail hands them on: the server's bytes with LF line ends, no Received header" cmp -s "$T/want-sha" "$T/got-sha"
is "$(sql "SELECT count(*) FROM mails WHERE raw LIKE '%fetchmail%'")" 0 "fetchmail left no trace in the bytes (set invisible)"
is "$(sql "SELECT count(DISTINCT source) FROM mails")" 1 "one source for all of them"
is "$(jobs)" "$jobs_want" "a job per mail with an order ($jobs_want)"
is "$(sql "SELECT count(*) FROM (SELECT payload->>'mail_id' FROM job_queue GROUP BY 1 HAVING count(*) > 1) d")" 0 "none twice"
is "$(imap uids INBOX | wc -l | tr -d ' ')" 20 "keep: the mails stay on the server"
is "$(imap flags INBOX | grep -c Seen)" 20 "marked seen by fetchmail after delivery"

# --- fetchall: everything delivered again, nothing stored twice -----------------------
sql "SELECT id, sha256, created_at FROM mails ORDER BY id" >"$T/before"
fm "$T/fetchmailrc"
is "$rc" 0 "fetchall: fetchmail delivers the 20 again (exit 0)"
is "$(printf '%s\n' "$out" "$err" | grep -c 'reading message shop@127.0.0.1:[0-9]* of 20')" 20 "all 20 are read again"
unlike "$out$err" "MDA returned" "and the MDA accepts each again"
is "$(mails)" 20 "still 20 mails: the redelivery is byte-identical"
sql "SELECT id, sha256, created_at FROM mails ORDER BY id" >"$T/after"
check "the rows are the same rows" cmp -s "$T/before" "$T/after"
is "$(jobs)" "$jobs_want" "no job queued again"
fm "$T/fetchmailrc-new"
is "$rc" 1 "without fetchall: nothing new (exit 1: no mail)"
is "$(mails)" 20 "still 20"

# --- the database is down: the MDA says 75, the mail stays -------------------------
if [ "$PG_OWN" != yes ]; then
	ok "# skip the database cannot be stopped: IKASQ_TEST_DATABASE_URL is a shared server"
	done_testing
	exit 0
fi
new=$(ls "$C"/*.eml | sed -n 21p)
uid=$(imap append INBOX "$new")
new_id=$(grep -im1 '^message-id:' "$new" | tr -d '\r' | sed 's/^[^<]*<\([^>]*\)>.*/\1/')
pg_stop fast
fm "$T/fetchmailrc-new"
# fetchmail's status says mail was retrieved; a failed MDA only shows in
# its log (exit codes in fetchmail(1): 0 = "one or more messages were
# successfully retrieved")
is "$rc" 0 "database down: fetchmail retrieves the new mail (its exit 0 does not tell a failed delivery)"
like "$out$err" "MDA returned nonzero status 75" "fetchmail reports the MDA's temporary failure"
is "$(imap uids INBOX | grep -cx "$uid")" 1 "the mail is still on the server"
is "$(imap flags INBOX | awk -v u="$uid" '$1 == u' | grep -c Seen)" 0 "and not marked seen"
fm "$T/fetchmailrc"
like "$out$err" "MDA returned nonzero status 75" "fetchall with the database down: every delivery fails"
is "$(imap uids INBOX | wc -l | tr -d ' ')" 21 "nothing is deleted"
is "$(imap flags INBOX | awk -v u="$uid" '$1 == u' | grep -c Seen)" 0 "the new mail is still unseen"
pg_start || bail "PostgreSQL did not start again"
fm "$T/fetchmailrc-new"
is "$rc" 0 "the database is back: the next run delivers it (exit 0)"
unlike "$out$err" "MDA returned" "and the MDA accepts it"
is "$(mails)" 21 "21 mails"
is "$(sql "SELECT count(*) FROM mails WHERE btrim(message_id, '<>') = '$new_id'")" 1 "the new one stored once"
is "$(sql "SELECT sha256 FROM mails WHERE btrim(message_id, '<>') = '$new_id'")" "$(lf_sha "$new")" "with the bytes fetchmail hands on"
is "$(imap flags INBOX | awk -v u="$uid" '$1 == u' | grep -c Seen)" 1 "and now it is marked seen"
fm "$T/fetchmailrc"
is "$rc" 0 "fetchall once more"
is "$(mails)" 21 "still 21: nothing stored twice"
is "$(sql "SELECT count(*) FROM (SELECT payload->>'mail_id' FROM job_queue GROUP BY 1 HAVING count(*) > 1) d")" 0 "no job twice"

# --- without keep: fetchmail deletes a mail only once the MDA took it -------------
new=$(ls "$C"/*.eml | sed -n 22p)
uid=$(imap append INBOX "$new")
new_id=$(grep -im1 '^message-id:' "$new" | tr -d '\r' | sed 's/^[^<]*<\([^>]*\)>.*/\1/')
pg_stop fast
fm "$T/fetchmailrc-delete"
like "$out$err" "MDA returned nonzero status 75" "nokeep, database down: the MDA fails"
is "$(imap uids INBOX | grep -cx "$uid")" 1 "the mail is not deleted"
is "$(imap flags INBOX | awk -v u="$uid" '$1 == u' | grep -c 'Seen\|Deleted')" 0 "nor marked seen or deleted"
pg_start || bail "PostgreSQL did not start again"
fm "$T/fetchmailrc-delete"
is "$rc" 0 "the database is back: delivered (exit 0)"
is "$(sql "SELECT count(*) FROM mails WHERE btrim(message_id, '<>') = '$new_id'")" 1 "stored once"
is "$(imap uids INBOX | grep -cx "$uid")" 0 "and only now deleted from the server"
is "$(mails)" 22 "22 mails in all"
done_testing
