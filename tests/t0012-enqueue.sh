#!/bin/sh
# ikasq enqueue: rows as asked, bad input refused with nothing written,
# dedupe keys, run-at times, NOTIFY
. "$TOP_SRCDIR/tests/lib.sh"
pg_setup
uuid_re='^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'

exits 0 "enqueue a job" "$IKASQ" enqueue fetch_ikas_order '{"mail_id":"m1","order_numbers":["12345"]}'
like "$out" "$uuid_re" "prints the job id"
is "$err" "" "nothing on stderr"
id=$out
is "$(sql "SELECT job_type, status, priority, attempts, max_attempts, payload->>'mail_id' FROM job_queue WHERE id = '$id'")" \
   "fetch_ikas_order|pending|5|0|3|m1" "the row: pending, priority 5, 3 attempts"
is "$(sql "SELECT abs(extract(epoch FROM scheduled_at - now())) < 5 FROM job_queue WHERE id = '$id'")" t "due now"

exits 0 "priority 10" "$IKASQ" enqueue noop '{}' --priority 10
is "$(sql "SELECT priority FROM job_queue WHERE id = '$out'")" 10 "stored"
exits 0 "priority 0" "$IKASQ" enqueue --priority 0 noop '{}'
is "$(sql "SELECT priority FROM job_queue WHERE id = '$out'")" 0 "stored"
exits 0 "--max-attempts 5" "$IKASQ" enqueue noop '{}' --max-attempts 5
is "$(sql "SELECT max_attempts FROM job_queue WHERE id = '$out'")" 5 "stored"
printf '{"from":"stdin"}' >"$T/payload.json"
exits 0 "payload from stdin" sh -c "'$IKASQ' enqueue noop - <'$T/payload.json'"
is "$(sql "SELECT payload->>'from' FROM job_queue WHERE id = '$out'")" stdin "stored"

n0=$(sql "SELECT count(*) FROM job_queue")
exits 65 "priority 11" "$IKASQ" enqueue noop '{}' --priority 11
exits 65 "payload that is not JSON" "$IKASQ" enqueue noop '{"a":'
like "$err" "^ikasq: payload is not JSON: " "one line saying so"
exits 65 "a JSON array payload" "$IKASQ" enqueue noop '[1,2]'
is "$err" "ikasq: payload is not a JSON object" "one line saying so"
exits 65 "duplicate keys in the payload" "$IKASQ" enqueue noop '{"a":1,"a":2}'
exits 65 "a time PostgreSQL cannot read" "$IKASQ" enqueue noop '{}' --at 'next tuesday-ish'
is "$err" "ikasq: bad time 'next tuesday-ish': use ISO 8601 like 2026-12-01T09:00:00+03:00" "one line naming it"
exits 65 "max attempts 0" "$IKASQ" enqueue noop '{}' --max-attempts 0
exits 65 "payload with a NUL escape PostgreSQL refuses" "$IKASQ" enqueue noop '{"a":"\u0000"}'
is "$(sql "SELECT count(*) FROM job_queue")" "$n0" "nothing was written by the failed commands"

exits 0 "--at +10m" "$IKASQ" enqueue noop '{}' --at +10m
is "$(sql "SELECT round(extract(epoch FROM scheduled_at - now()) / 60) FROM job_queue WHERE id = '$out'")" 10 "scheduled 10 minutes ahead"
exits 0 "--at ISO 8601" "$IKASQ" enqueue noop '{}' --at 2030-01-02T03:04:05+03:00
is "$(sql "SELECT scheduled_at AT TIME ZONE 'UTC' FROM job_queue WHERE id = '$out'")" "2030-01-02 00:04:05" "scheduled then"

# dedupe: one live job per key; a second request can raise its priority
exits 0 "first job with a dedupe key" "$IKASQ" enqueue fetch_ikas_order '{"mail_id":"m2"}' --dedupe mail:m2
a=$out
exits 0 "the same key again, higher priority" "$IKASQ" enqueue fetch_ikas_order '{"mail_id":"m2"}' --dedupe mail:m2 --priority 10
is "$out" "$a" "returns the first job's id"
like "$err" "already queued" "and says it was already queued"
is "$(sql "SELECT count(*) FROM job_queue WHERE dedupe_key = 'mail:m2'")" 1 "one row"
is "$(sql "SELECT priority FROM job_queue WHERE id = '$a'")" 10 "its priority was raised to 10"
exits 0 "lower priority again" "$IKASQ" enqueue fetch_ikas_order '{"mail_id":"m2"}' --dedupe mail:m2 --priority 1
is "$(sql "SELECT priority FROM job_queue WHERE id = '$a'")" 10 "priority is never lowered"
sql "UPDATE job_queue SET status = 'completed' WHERE id = '$a'"
exits 0 "the key once the job is finished" "$IKASQ" enqueue fetch_ikas_order '{"mail_id":"m2"}' --dedupe mail:m2
if [ "$out" != "$a" ]; then ok "a finished job does not block a new one"; else not_ok "a finished job does not block a new one"; fi

# NOTIFY: a listener wakes at once
PGOPTIONS="-c search_path=$T_SCHEMA" psql -X -q "$T_CONNINFO" \
    -c "LISTEN ikasq_jobs" -c "SELECT pg_sleep(2)" >"$T/listen.out" 2>&1 &
sleep 0.5
"$IKASQ" enqueue noop '{}' >/dev/null
wait
like "$(cat "$T/listen.out")" 'Asynchronous notification "ikasq_jobs"' "enqueue notifies ikasq_jobs"
done_testing
