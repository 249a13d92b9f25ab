#!/bin/sh
# ikasq ingest as an MDA: one message on stdin becomes a mail row and a
# priority-5 job in one transaction; twice is once; silent on success;
# every failure but an empty message is 75 and writes nothing
. "$TOP_SRCDIR/tests/lib.sh"
pg_setup
C=$TOP_SRCDIR/tests/data/corpus
M=$(ls "$C"/007-*.eml)
M2=$(ls "$C"/002-*.eml)
M3=$(ls "$C"/003-*.eml)
sha() { sha256sum "$1" | cut -d' ' -f1; }

exits 0 "ingest a mail with an order" sh -c "'$IKASQ' ingest <'$M'"
is "$err" "" "silent on stderr"
is "$out" "" "and on stdout"
s=$(sha "$M")
is "$(sql "SELECT count(*) FROM mails WHERE sha256 = '$s'")" 1 "one mail row"
id=$(sql "SELECT id FROM mails WHERE sha256 = '$s'")
want=$(grep "^$(basename "$M")	" "$C/labels.tsv" | cut -f2)
is "$(sql "SELECT array_to_string(order_numbers, ',') FROM mails WHERE id = '$id'")" "$want" "its order numbers"
is "$(sql "SELECT size_bytes = $(wc -c <"$M"), source, length(raw) = size_bytes, parse_error IS NULL FROM mails WHERE id = '$id'")" "t|stdin|t|t" "size, source and the raw bytes kept"
is "$(sql "SELECT job_type, priority, status, payload->>'mail_id', payload->'order_numbers'->>0 FROM job_queue")" \
   "fetch_ikas_order|5|pending|$id|$want" "one fetch_ikas_order job at priority 5 naming the mail and the order"
like "$(sql "SELECT payload->>'from_email' || ' ' || (payload->>'subject' IS NOT NULL) FROM job_queue")" "@.* true$" "the job carries sender and subject"
like "$(sql "SELECT orders->0->>'evidence' FROM mails WHERE id = '$id'")" "$want" "the evidence is stored"
raw_ok=$(sql "SELECT encode(sha256(raw), 'hex') FROM mails WHERE id = '$id'")
is "$raw_ok" "$s" "the raw bytes are exactly the message"

exits 0 "the same message again" sh -c "'$IKASQ' ingest <'$M'"
is "$err" "" "silent"
is "$(sql "SELECT count(*) FROM mails")" 1 "still one mail"
is "$(sql "SELECT count(*) FROM job_queue")" 1 "still one job"

N=$(ls "$C"/009-*.eml)
exits 0 "a mail without orders" sh -c "'$IKASQ' ingest <'$N'"
is "$(sql "SELECT count(*), max(cardinality(order_numbers)) FROM mails WHERE sha256 = '$(sha "$N")'")" "1|0" "is stored"
is "$(sql "SELECT count(*) FROM job_queue")" 1 "and queues nothing"

exits 0 "--priority 10" sh -c "'$IKASQ' ingest --priority 10 <'$M2'"
is "$(sql "SELECT priority FROM job_queue ORDER BY created_at DESC LIMIT 1")" 10 "the job has priority 10"
exits 65 "--priority 11" sh -c "'$IKASQ' ingest --priority 11 <'$M'"

# garbage is stored raw with the reason; the database never sees bad UTF-8
python3 -c "import random, sys; random.seed(7); sys.stdout.buffer.write(bytes(random.randrange(256) for _ in range(3000)))" >"$T/garbage"
exits 0 "binary garbage" sh -c "'$IKASQ' ingest <'$T/garbage'"
is "$(sql "SELECT parse_error IS NOT NULL, length(raw) FROM mails WHERE sha256 = '$(sha "$T/garbage")'")" "t|3000" "stored raw with a parse error"
printf 'Subject: =?utf-8?B?U2lwYXJpxZ8=?= 88\376\n\nsipari\376 no: 44556 \377\000\376\n' >"$T/latin"
exits 0 "8-bit junk and a NUL" sh -c "'$IKASQ' ingest <'$T/latin'"
is "$(sql "SELECT subject, array_to_string(order_numbers, ',') FROM mails WHERE sha256 = '$(sha "$T/latin")'")" "Sipariş 88ş|44556" "read as windows-1254"

exits 65 "an empty message" sh -c "'$IKASQ' ingest </dev/null"
is "$err" "ikasq: empty message on standard input" "one line"

# the database is down: 75, nothing written; a broken config: 75 too
n0=$(sql "SELECT count(*) FROM mails")
pg_stop fast
exits 75 "the database is down" sh -c "'$IKASQ' ingest <'$M3'"
like "$err" "^ikasq: cannot connect to database" "one line saying why"
pg_start || bail "restart"
is "$(sql "SELECT count(*) FROM mails")" "$n0" "nothing was stored"
printf '[queue]\nmax_attempts = lots\n' >"$T/broken.conf"
exits 75 "a broken configuration" sh -c "'$IKASQ' -c '$T/broken.conf' ingest <'$M3'"
like "$err" "configuration error: the message was not delivered" "says the mail will be tried again"
sql "REVOKE INSERT ON mails FROM PUBLIC" >/dev/null
sql "CREATE ROLE lowly LOGIN" >/dev/null
sql "GRANT USAGE ON SCHEMA $T_SCHEMA TO lowly; GRANT SELECT ON ALL TABLES IN SCHEMA $T_SCHEMA TO lowly" >/dev/null
printf '[database]\nconninfo = %s user=lowly\nschema = %s\n' "$T_CONNINFO" "$T_SCHEMA" >"$T/lowly.conf"
exits 75 "the transaction fails (no INSERT right)" sh -c "'$IKASQ' -c '$T/lowly.conf' ingest <'$M3'"
is "$(sql "SELECT count(*) FROM mails")" "$n0" "nothing half-written"
exits 0 "delivered again when things are right" sh -c "'$IKASQ' ingest <'$M3'"
is "$(sql "SELECT count(*) FROM mails")" "$((n0 + 1))" "stored once"

# raw messages as files
mkdir "$T/raw"
printf '[database]\nconninfo = %s\nschema = %s\n[ingest]\nraw_dir = %s/raw\n' "$T_CONNINFO" "$T_SCHEMA" "$T" >"$T/raw.conf"
R=$(ls "$C"/010-*.eml)
exits 0 "with raw_dir" sh -c "'$IKASQ' -c '$T/raw.conf' ingest <'$R'"
rs=$(sha "$R")
is "$(sql "SELECT raw IS NULL, raw_path FROM mails WHERE sha256 = '$rs'")" "t|$T/raw/$(echo "$rs" | cut -c1-2)/$rs.eml" "the row names the file"
check "the file holds the message" cmp -s "$R" "$T/raw/$(echo "$rs" | cut -c1-2)/$rs.eml"
done_testing
