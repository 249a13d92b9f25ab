#!/bin/sh
# ikasq shares a database with the seed's Next.js/Supabase app: migrate over
# the app's schema keeps its rows, and the seed's SQL functions behave as
# the seed says (priority order, 2/4/8-minute backoff, 7-day cleanup)
. "$TOP_SRCDIR/tests/lib.sh"
pg_setup nomigrate

sql "$(cat "$TOP_SRCDIR/tests/data/seed-schema.sql")" >/dev/null
exits 0 "migrate over the seed app's schema" "$IKASQ" migrate
is "$(sql "SELECT from_email, subject FROM mails")" "ayse@example.com|Siparişim nerede?" "the app's mail is kept"
is "$(sql "SELECT order_number, order_data->>'status', found FROM ikas_order_cache")" "12345|SHIPPED|t" "its cache row is kept (and counts as found)"
is "$(sql "SELECT string_agg(status, ',' ORDER BY status) FROM job_queue")" "completed,pending" "its jobs are kept"
exits 0 "stats read the app's jobs" "$IKASQ" stats --json
like "$out" '"byType":\{"fetch_ikas_order":2\}' "both jobs counted"
exits 0 "migrate again" "$IKASQ" migrate
like "$out" "0 migrations applied now" "nothing left to do"

# dequeue_job(): highest priority first, then earliest; future jobs wait
sql "DELETE FROM job_queue"
sql "INSERT INTO job_queue (job_type, payload, priority, scheduled_at) VALUES
     ('a', '{\"n\":1}', 5,  now() - interval '3 minutes'),
     ('a', '{\"n\":2}', 10, now() - interval '1 minute'),
     ('a', '{\"n\":3}', 10, now() - interval '2 minutes'),
     ('b', '{\"n\":4}', 0,  now() - interval '5 minutes'),
     ('a', '{\"n\":5}', 10, now() + interval '1 hour')"
order=""
for i in 1 2 3 4; do
	order="$order$(sql "SELECT payload->>'n' FROM dequeue_job()")"
done
is "$order" 3214 "dequeue_job() takes 10 (older first), then 5, then 0"
is "$(sql "SELECT count(*) FROM dequeue_job()")" 0 "a job scheduled in the future is not taken"
is "$(sql "SELECT status, attempts, started_at IS NOT NULL, lease_expires_at > now() FROM job_queue WHERE payload->>'n' = '3'")" \
   "processing|1|t|t" "a taken job is processing, attempt 1, with a lease"
sql "UPDATE job_queue SET scheduled_at = now() WHERE payload->>'n' = '5'"
sql "INSERT INTO job_queue (job_type, payload, priority) VALUES ('b', '{\"n\":6}', 10)"
is "$(sql "SELECT payload->>'n' FROM dequeue_job(ARRAY['b'])")" 6 "the type filter"

# fail_job(): retry at now + 2^attempts minutes, failed at max_attempts
sql "DELETE FROM job_queue"
sql "INSERT INTO job_queue (job_type, payload) VALUES ('a', '{}')"
delays=""
for i in 1 2 3; do
	sql "UPDATE job_queue SET scheduled_at = now()"
	id=$(sql "SELECT id FROM dequeue_job()")
	sql "SELECT fail_job('$id', 'HTTP 500 attempt $i')" >/dev/null
	delays="$delays $(sql "SELECT status || ':' || round(extract(epoch FROM scheduled_at - now()) / 60) FROM job_queue")"
done
is "$delays" " pending:2 pending:4 failed:0" "2 and 4 minutes, then failed after the 3rd attempt"
is "$(sql "SELECT attempts, error_message, completed_at IS NOT NULL FROM job_queue")" "3|HTTP 500 attempt 3|t" "the last error is kept"
is "$(sql "SELECT count(*) FROM dequeue_job()")" 0 "a failed job is not taken again"
sql "UPDATE job_queue SET status = 'pending', attempts = 3, max_attempts = 4, scheduled_at = now()"
id=$(sql "SELECT id FROM dequeue_job()")
sql "SELECT fail_job('$id', 'x')" >/dev/null
is "$(sql "SELECT status FROM job_queue")" failed "with max_attempts 4, the 4th failure is final"
sql "UPDATE job_queue SET status = 'pending', attempts = 3, max_attempts = 5, scheduled_at = now()"
id=$(sql "SELECT id FROM dequeue_job()")
sql "SELECT fail_job('$id', 'x')" >/dev/null
is "$(sql "SELECT status || ':' || round(extract(epoch FROM scheduled_at - now()) / 60) FROM job_queue")" "pending:16" "after attempt 4 of 5: 16 minutes"

# a job the app took and then died on is rescued by ikasq's claim
sql "DELETE FROM job_queue"
sql "INSERT INTO job_queue (job_type, payload) VALUES ('noop', '{}')"
sql "SELECT id FROM dequeue_job()" >/dev/null
sql "UPDATE job_queue SET lease_expires_at = now() - interval '1 second'"
"$TOP_BUILDDIR/tests/helpers/qdrain" drain 10 60 "$T/drained" 2>/dev/null
is "$(wc -l <"$T/drained" | tr -d ' ')" 1 "ikasq completes a job whose dequeue_job() caller died"
is "$(sql "SELECT status, attempts, rescues FROM job_queue")" "completed|1|1" "once, with the lost attempt given back"
done_testing
