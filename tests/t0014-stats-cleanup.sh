#!/bin/sh
# ikasq stats (table, the seed's JSON, Prometheus) and ikasq cleanup
. "$TOP_SRCDIR/tests/lib.sh"
pg_setup

exits 0 "stats --json on an empty queue" "$IKASQ" stats --json
is "$out" '{"success":true,"stats":{"byStatus":{"pending":0,"processing":0,"completed":0,"failed":0,"cancelled":0},"byType":{},"total":0}}' "the seed's shape, all zero"

for i in 1 2 3; do "$IKASQ" enqueue fetch_ikas_order '{}' >/dev/null; done
"$IKASQ" enqueue process_mail '{}' >/dev/null
"$IKASQ" enqueue cleanup '{}' >/dev/null
sql "UPDATE job_queue SET status = 'completed', completed_at = now() WHERE id IN (SELECT id FROM job_queue WHERE job_type = 'fetch_ikas_order' LIMIT 2)"
sql "UPDATE job_queue SET status = 'failed', completed_at = now() WHERE job_type = 'process_mail'"
exits 0 "stats --json" "$IKASQ" stats --json
is "$out" '{"success":true,"stats":{"byStatus":{"pending":2,"processing":0,"completed":2,"failed":1,"cancelled":0},"byType":{"cleanup":1,"fetch_ikas_order":3,"process_mail":1},"total":5}}' "counts by status and by type"
exits 0 "stats" "$IKASQ" stats
like "$out" "^job type +pending +processing +completed +failed +cancelled +total$" "a table header"
like "$out" "^fetch_ikas_order +1 +0 +2 +0 +0 +3$" "a row per type"
like "$out" "^\(all\) +2 +0 +2 +1 +0 +5$" "and a total row"
exits 0 "stats --prometheus" "$IKASQ" stats --prometheus
like "$out" '^ikasq_jobs\{type="fetch_ikas_order",status="completed"\} 2$' "a gauge per type and status"
like "$out" '^# TYPE ikasq_jobs gauge$' "with its TYPE line"
unlike "$(printf '%s\n' "$out" | grep -v '^#' | grep -Ev '^[a-z_]+(\{[^}]*\})? [0-9.]+$')" '.' "every sample line is well formed"

# cleanup: finished jobs older than 7 days (or --older-than), expired cache rows
sql "DELETE FROM job_queue"
sql "INSERT INTO job_queue (job_type, payload, status, completed_at) VALUES
     ('t', '{}', 'completed', now() - interval '8 days'),
     ('t', '{}', 'failed',    now() - interval '10 days'),
     ('t', '{}', 'cancelled', now() - interval '9 days'),
     ('t', '{}', 'completed', now() - interval '1 day'),
     ('t', '{}', 'pending',   NULL)"
sql "UPDATE job_queue SET created_at = now() - interval '30 days'"
sql "INSERT INTO ikas_order_cache (order_number, order_data, expires_at) VALUES
     ('1001', '{}', now() - interval '1 minute'),
     ('1002', '{}', now() + interval '1 hour')"
exits 0 "cleanup" "$IKASQ" cleanup
is "$out" "deleted 3 finished jobs older than 1w and 1 expired cache row" "counts what it deleted"
is "$(sql "SELECT string_agg(status, ',' ORDER BY status) FROM job_queue")" "completed,pending" "keeps recent and unfinished jobs"
is "$(sql "SELECT string_agg(order_number, ',') FROM ikas_order_cache")" 1002 "keeps fresh cache rows"
exits 0 "cleanup --older-than 1h --json" "$IKASQ" cleanup --older-than 1h --json
is "$out" '{"success":true,"deletedJobs":1,"deletedCacheRows":0}' "JSON counts"
is "$(sql "SELECT status FROM job_queue")" pending "a pending job is never cleaned up"

# the seed's SQL function does the same for completed/failed after 7 days
sql "INSERT INTO job_queue (job_type, payload, status, completed_at) VALUES
     ('t', '{}', 'completed', now() - interval '8 days'),
     ('t', '{}', 'failed',    now() - interval '8 days'),
     ('t', '{}', 'completed', now())"
is "$(sql "SELECT cleanup_old_jobs()")" 2 "cleanup_old_jobs() returns the count"

# with no configuration at all, libpq's PG* environment names the server
unset IKASQ_CONFIG
HOME=$T/home; export HOME
if [ ! -e /etc/ikasq/ikasq.conf ] && [ ! -e /usr/local/etc/ikasq/ikasq.conf ] && [ "$PG_OWN" = yes ]; then
	PGHOST=$T/pgrun PGUSER=postgres PGDATABASE=postgres exits 0 "stats with no config file, PG* environment" "$IKASQ" stats --json
	like "$out" '"total":2' "reads the same database"
fi
done_testing
