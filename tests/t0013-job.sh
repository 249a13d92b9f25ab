#!/bin/sh
# ikasq job list | show | retry | cancel
. "$TOP_SRCDIR/tests/lib.sh"
pg_setup
json_len() { python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
json_get() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

a=$("$IKASQ" enqueue fetch_ikas_order '{"mail_id":"a"}')
b=$("$IKASQ" enqueue fetch_ikas_order '{"mail_id":"b"}' --priority 10)
c=$("$IKASQ" enqueue cleanup '{}' --priority 0)

exits 0 "job list" "$IKASQ" job list
is "$(printf '%s\n' "$out" | wc -l | tr -d ' ')" 4 "a header and three jobs"
like "$out" "^$b +fetch_ikas_order +pending +10 +0/3 " "a row shows id, type, status, priority, tries"
exits 0 "job list --type cleanup" "$IKASQ" job list --type cleanup
is "$(printf '%s\n' "$out" | sed 1d | cut -c1-36)" "$c" "filters by type"
exits 0 "job list --json" "$IKASQ" job list --json
is "$(printf '%s' "$out" | json_len)" 3 "a JSON array of three"
exits 0 "job list --limit 2" "$IKASQ" job list --limit 2 --json
is "$(printf '%s' "$out" | json_len)" 2 "limits"

exits 0 "job show" "$IKASQ" job show "$a"
like "$out" "^job_type +fetch_ikas_order$" "shows the type"
like "$out" '^payload +\{"mail_id":"a"\}$' "shows the payload"
exits 0 "job show --json" "$IKASQ" job show --json "$a"
is "$(printf '%s' "$out" | json_get status)" pending "JSON with the status"
exits 65 "job show of an unknown id" "$IKASQ" job show 00000000-0000-0000-0000-000000000000
is "$err" "ikasq: unknown job '00000000-0000-0000-0000-000000000000'" "one line naming it"
exits 65 "job show of a non-id" "$IKASQ" job show 12345
is "$err" "ikasq: unknown job '12345': not a job id" "one line naming it"

exits 0 "cancel a pending job" "$IKASQ" job cancel "$a"
is "$out" "job $a is cancelled" "says so"
is "$(sql "SELECT status, completed_at IS NOT NULL FROM job_queue WHERE id = '$a'")" "cancelled|t" "the row is cancelled"
exits 65 "cancel it again" "$IKASQ" job cancel "$a"
is "$err" "ikasq: job '$a' is already cancelled" "one line"
exits 0 "retry the cancelled job" "$IKASQ" job retry "$a"
is "$(sql "SELECT status, attempts, completed_at IS NULL FROM job_queue WHERE id = '$a'")" "pending|0|t" "pending again"

sql "UPDATE job_queue SET status = 'failed', attempts = 3, error_message = 'HTTP 500', completed_at = now() WHERE id = '$b'"
exits 0 "job list --status failed" "$IKASQ" job list --status failed
like "$out" "^$b .* HTTP 500$" "shows the last error"
exits 0 "retry a failed job" "$IKASQ" job retry "$b"
is "$(sql "SELECT status, attempts, abs(extract(epoch FROM scheduled_at - now())) < 5 FROM job_queue WHERE id = '$b'")" "pending|0|t" "pending, attempts reset, due now"

sql "UPDATE job_queue SET scheduled_at = now() + interval '1 hour' WHERE id = '$c'"
exits 0 "retry a pending job waiting for its backoff" "$IKASQ" job retry "$c"
is "$(sql "SELECT abs(extract(epoch FROM scheduled_at - now())) < 5 FROM job_queue WHERE id = '$c'")" t "it is due now"

sql "UPDATE job_queue SET status = 'completed' WHERE id = '$c'"
exits 65 "retry a completed job" "$IKASQ" job retry "$c"
like "$err" "is completed; only failed, cancelled or pending jobs can be retried" "says why"
exits 65 "cancel a completed job" "$IKASQ" job cancel "$c"
exits 65 "retry an unknown job" "$IKASQ" job retry 00000000-0000-0000-0000-000000000000
done_testing
