#!/bin/sh
# ikasq migrate: creates the schema, is idempotent, serialises concurrent runs
. "$TOP_SRCDIR/tests/lib.sh"
pg_setup nomigrate

exits 0 "migrate on an empty database" "$IKASQ" migrate
like "$out" "^applied 001_init" "it says which migrations it applied"
like "$out" "^applied 002_claim" "all of them"
like "$out" "is up to date \($(ls "$TOP_SRCDIR"/sql/*.sql | wc -l | tr -d " ") migrations applied now" "and sums up"
is "$err" "" "nothing on stderr"
is "$(sql "SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migrations")" \
   "$(ls "$TOP_SRCDIR"/sql/*.sql | sed 's|.*/0*||; s|_.*||' | paste -sd, -)" \
   "schema_migrations lists every sql/ file"
for t in mails job_queue ikas_order_cache; do
	is "$(sql "SELECT to_regclass('$t') IS NOT NULL")" t "table $t exists"
done
for f in 'dequeue_job(text[])' 'fail_job(uuid,text)' 'cleanup_old_jobs()'; do
	is "$(sql "SELECT to_regprocedure('$f') IS NOT NULL")" t "function $f exists"
done

# the schema as pg_dump sees it (less the random \restrict key of newer
# pg_dump releases)
dump() {
	if [ "$PG_OWN" = yes ]; then
		as_pg "$PG_BIN/pg_dump" -h "$T/pgrun" -U postgres -s postgres
	else
		pg_dump -s -n "$T_SCHEMA" "$T_CONNINFO"
	fi | grep -v '^\\\(un\)\{0,1\}restrict '
}
dump >"$T/schema1.sql"
sql "SELECT version, applied_at FROM schema_migrations" >"$T/applied1"
exits 0 "migrate again" "$IKASQ" migrate
like "$out" "0 migrations applied now" "the second run applies nothing"
is "$err" "" "and prints no notice on stderr"
dump >"$T/schema2.sql"
sql "SELECT version, applied_at FROM schema_migrations" >"$T/applied2"
check "the schema is byte for byte the same" cmp -s "$T/schema1.sql" "$T/schema2.sql"
check "schema_migrations is unchanged" cmp -s "$T/applied1" "$T/applied2"

exits 0 "migrate --status" "$IKASQ" migrate --status
like "$out" "^applied  001_init" "status lists applied migrations"

# concurrent runs on a fresh schema take turns on the advisory lock
sql "DROP TABLE schema_migrations, ikas_order_cache, job_queue, mails CASCADE"
for i in 1 2 3; do "$IKASQ" migrate >"$T/m$i.out" 2>&1 & done
wait
n=$(cat "$T"/m?.out | grep -c '^applied 001_init')
is "$n" 1 "three concurrent runs apply 001_init once"
is "$(sql "SELECT count(*) FROM schema_migrations WHERE version = 1")" 1 "recorded once"

exits 64 "an unknown option is a usage error" "$IKASQ" migrate --bogus
like "$err" "usage: ikasq migrate" "and shows the usage"
done_testing
