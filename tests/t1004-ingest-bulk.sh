#!/bin/sh
# ikasq ingest --mbox / --maildir: bulk import at priority 0, idempotent,
# a summary at the end, a bad message skipped and reported
. "$TOP_SRCDIR/tests/lib.sh"
pg_setup
C=$TOP_SRCDIR/tests/data/corpus
ALL=$(ls "$C"/*.eml | wc -l | tr -d ' ')
WITH=$(grep -v '^#' "$C/labels.tsv" | awk -F'\t' '$2 != "-"' | wc -l | tr -d ' ')

# an mbox of the whole corpus, with the mboxrd escaping of "From " lines
for f in "$C"/*.eml; do
	printf 'From sender@example.com Thu Nov 26 10:00:00 2026\n'
	sed 's/^\(>*From \)/>\1/' "$f"
	printf '\n'
done >"$T/all.mbox"
head -n "$(grep -n '^From sender' "$T/all.mbox" | sed -n 31p | cut -d: -f1)" "$T/all.mbox" | sed '$d' >"$T/first30.mbox"

exits 0 "import the first 30 messages" "$IKASQ" ingest --mbox "$T/first30.mbox"
like "$out" "^imported $T/first30.mbox: 30 messages, 30 new, 0 already stored, 0 skipped; [0-9]+ jobs queued at priority 0 " "a summary line"
exits 0 "import the whole mbox" "$IKASQ" ingest --mbox "$T/all.mbox"
like "$out" "^imported $T/all.mbox: $ALL messages, $((ALL - 30)) new, 30 already stored, 0 skipped; " "carries on where the first stopped"
is "$(sql "SELECT count(*) FROM mails")" "$ALL" "every message stored once"
is "$(sql "SELECT count(*) FROM job_queue")" "$WITH" "a job for each mail with an order"
is "$(sql "SELECT DISTINCT priority FROM job_queue")" 0 "bulk jobs have priority 0"
is "$(sql "SELECT DISTINCT source FROM mails ORDER BY source")" "mbox:$T/all.mbox
mbox:$T/first30.mbox" "the source names the mbox"
# the unescaped bytes are the original ones
bad=0
for f in "$C"/*.eml; do
	s=$(sha256sum "$f" | cut -d' ' -f1)
	[ "$(sql "SELECT count(*) FROM mails WHERE sha256 = '$s'")" = 1 ] || { bad=$((bad + 1)); diag "not stored as is: $f"; }
done
is "$bad" 0 "each stored message is byte for byte the original (>From unescaped)"
exits 0 "import it again" "$IKASQ" ingest --mbox "$T/all.mbox"
like "$out" ": $ALL messages, 0 new, $ALL already stored, 0 skipped; 0 jobs queued" "nothing new"
is "$(sql "SELECT count(*) FROM mails")" "$ALL" "still one row per message"

# a message the database refuses (a trigger): the batch it was in is stored
# again one message at a time, only that one is skipped, and named
sql "DELETE FROM job_queue; DELETE FROM mails"
mid=$(sed -n 's/^[Mm]essage-[Ii][Dd]: *<\([^>]*\)>.*/\1/p' "$(ls "$C"/*.eml | sed -n 17p)" | head -n 1)
[ -n "$mid" ] || bail "corpus mail 17 has no Message-ID"
sql "CREATE FUNCTION t_refuse() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN RAISE EXCEPTION 'refused for the test' USING ERRCODE = 'check_violation'; END \$\$;
CREATE TRIGGER t_refuse BEFORE INSERT ON mails FOR EACH ROW
    WHEN (btrim(NEW.message_id, '<>') = '$mid') EXECUTE FUNCTION t_refuse()"
exits 0 "import with one message refused" "$IKASQ" ingest --mbox "$T/all.mbox"
like "$out" "^imported $T/all.mbox: $((ALL - 1)) messages, $((ALL - 1)) new, 0 already stored, 1 skipped; " "it is counted as skipped"
like "$err" "skipped '$T/all.mbox' message 17: .*refused for the test" "and named, with the server's reason"
is "$(sql "SELECT count(*) FROM mails")" "$((ALL - 1))" "every other message is stored"
is "$(sql "SELECT count(*) FROM mails WHERE btrim(message_id, '<>') = '$mid'")" 0 "not that one"
sql "DROP TRIGGER t_refuse ON mails"
exits 0 "import it again" "$IKASQ" ingest --mbox "$T/all.mbox"
like "$out" ": $ALL messages, 1 new, $((ALL - 1)) already stored, 0 skipped; " "the refused one comes in now"
is "$(sql "SELECT count(*) FROM job_queue")" "$WITH" "a job for each mail with an order, none twice"

# a raw_dir that cannot take message 17's file: the import stops in the
# middle of its pipelined batch with 75, and nothing of the batch is stored
sha17=$(sql "SELECT sha256 FROM mails WHERE btrim(message_id, '<>') = '$mid'")
sql "DELETE FROM job_queue; DELETE FROM mails"
mkdir "$T/raw"
: >"$T/raw/$(echo "$sha17" | cut -c1-2)"	# a file where a folder must go
printf '[database]\nconninfo = %s\nschema = %s\n[ingest]\nraw_dir = %s/raw\n' "$T_CONNINFO" "$T_SCHEMA" "$T" >"$T/raw.conf"
exits 75 "raw_dir refuses a file mid-batch" "$IKASQ" -c "$T/raw.conf" ingest --mbox "$T/all.mbox"
like "$err" "'$T/all.mbox' message [0-9]+: cannot create '$T/raw/" "names the message and the file"
is "$(sql "SELECT count(*) FROM mails")" 0 "nothing of the batch is stored"
rm "$T/raw/$(echo "$sha17" | cut -c1-2)"
exits 0 "with the folder free again" "$IKASQ" -c "$T/raw.conf" ingest --mbox "$T/all.mbox"
is "$(sql "SELECT count(*) FROM mails WHERE raw IS NULL AND raw_path IS NOT NULL")" "$ALL" "every message is stored, as a file"

# Maildir, with one entry that cannot be read
sql "DELETE FROM job_queue; DELETE FROM mails"
mkdir -p "$T/md/cur" "$T/md/new" "$T/md/tmp"
i=0
for f in "$C"/0[0-1]*.eml; do
	i=$((i + 1))
	cp "$f" "$T/md/$( [ $((i % 2)) = 0 ] && echo cur || echo new)/$i.host:2,"
done
mkdir "$T/md/cur/zz-not-a-file"
exits 0 "import a Maildir" "$IKASQ" ingest --maildir "$T/md" --priority 3
like "$out" "^imported $T/md: $i messages, $i new, 0 already stored, 1 skipped; " "summary"
like "$err" "skipped '$T/md/cur/zz-not-a-file': cannot read" "the bad entry is named"
is "$(sql "SELECT count(*) FROM mails")" "$i" "every readable message stored"
is "$(sql "SELECT coalesce(string_agg(DISTINCT priority::text, ','), '3') FROM job_queue")" 3 "--priority applies"

exits 65 "an mbox that is not one" "$IKASQ" ingest --mbox "$C/001-"*.eml
exits 65 "a Maildir that is not one" "$IKASQ" ingest --maildir "$T"
exits 65 "a missing mbox" "$IKASQ" ingest --mbox "$T/nope"
exits 64 "--mbox and --maildir" "$IKASQ" ingest --mbox "$T/all.mbox" --maildir "$T/md"
pg_stop fast
exits 75 "the database is down" "$IKASQ" ingest --mbox "$T/all.mbox"
pg_start
done_testing
