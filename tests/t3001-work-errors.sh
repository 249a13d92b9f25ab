#!/bin/sh
# ikasq work when İkas misbehaves: a 429 (Retry-After in the header, in the
# body, or none) reschedules the job without spending its attempt and
# blocks the shared bucket for every worker; 5xx, a timeout, broken JSON, an
# answer without data are failed attempts retried after 2, then 4 minutes,
# failed for good after the third; validation and credential errors fail
# at once; a dead token is renewed once; an order İkas does not know is
# cached as such; the secret and the tokens never show.  A failed job is
# not a failed worker: every run exits 0.
. "$TOP_SRCDIR/tests/lib.sh"
pg_setup
# the stand-in's own complaints (a client that hung up on a slow answer)
# go to a file in the scratch directory, not to the test's stderr
ikas_setup 2>>"$T/fake-ikas.err"
ikas_conf

# fresh: no jobs, an open bucket, the stand-in's counters and faults at
# zero (the error messages of the jobs so far kept for the last check)
fresh() {
	sql "SELECT coalesce(error_message, '') FROM job_queue" >>"$T/errors"
	sql "SELECT id FROM job_queue WHERE error_message ~ '[[:cntrl:]]'" >>"$T/multiline"
	sql "DELETE FROM job_queue; DELETE FROM ikas_rate" >/dev/null
	ikas_admin /_admin/reset >/dev/null
}
# job NUMBER: queue a fetch_ikas_order job for it; its id in $J
job() {
	J=$("$IKASQ" enqueue fetch_ikas_order "{\"order_numbers\":[\"$1\"]}") ||
	    bail "cannot enqueue"
}
fail() { ikas_admin /_admin/fail "$1" >/dev/null; }
# work DESC [OPTIONS...]: `ikasq -v OPTIONS work`, which must exit 0; its
# log in $err and $T/all.log, the token it leaves in $T/tokens
work() {
	_d=$1; shift
	exits 0 "$_d" "$IKASQ" -v "$@" work
	printf '%s\n' "$err" >>"$T/all.log"
	sql "SELECT access_token FROM ikas_token" >>"$T/tokens"
}
# col EXPR [ID]: one expression over the job's row
col() { sql "SELECT $1 FROM job_queue WHERE id = '${2:-$J}'"; }
# state [ID]: status|attempts of the job
state() { col "status || '|' || attempts" "${1:-}"; }
# delay [ID]: seconds from the job's last update to when it is due again
delay() { col "round(extract(epoch FROM scheduled_at - updated_at))" "${1:-}"; }
# within N LO HI DESC
within() {
	if [ -n "$1" ] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; then ok "$4"
	else not_ok "$4"; diag "expected $2..$3, got '$1'"; fi
}
blocked() {
	sql "SELECT coalesce(round(extract(epoch FROM blocked_until - now()))::text, 'none') FROM ikas_rate"
}
# stat KEY: one counter of the stand-in (ikas_stat in one python3)
stat() {
	python3 - "$IKAS_PORT" "$1" <<-'PY'
	import json, sys, urllib.request
	url = "http://127.0.0.1:%s/_admin/stats" % sys.argv[1]
	print(json.load(urllib.request.urlopen(url))[sys.argv[2]])
	PY
}
: >"$T/all.log"
: >"$T/errors"
: >"$T/tokens"
: >"$T/multiline"

# --- 1. 429 with Retry-After: 30 ----------------------------------------------
fresh
job 10001
j1=$J
fail '{"what": "429", "retry_after": 30}'
work "a 429 with Retry-After"
is "$(state)" "pending|0" "429 (header): pending again, the attempt given back"
is "$(delay)" 30 "429 (header): due again after Retry-After (30 s)"
within "$(col "round(extract(epoch FROM scheduled_at - now()))")" 28 30 \
    "429 (header): scheduled about 30 s ahead"
is "$(col error_message)" "İkas answered HTTP 429 Too Many Requests (retry after 30 s)" \
    "429 (header): error_message says 429 and the wait"
is "$(col "completed_at IS NULL AND lease_expires_at IS NULL")" t \
    "429 (header): not completed, no lease held"
within "$(blocked)" 28 30 "429 (header): the shared bucket is blocked about 30 s"
is "$(sql "SELECT limited FROM ikas_rate")" 1 "429 (header): the bucket counts one 429"
is "$(stat graphql_requests)" 1 "429 (header): one GraphQL request"
is "$(stat status_429)" 1 "429 (header): answered 429 once"
like "$err" "job $J rescheduled in 30 s: İkas answered HTTP 429.*\(the attempt does not count\)" \
    "429 (header): the log says the attempt does not count"
like "$err" "worker finished: 0 processed, 1 failed" "429 (header): the summary counts it"

# another worker right after: the bucket is closed for everybody
ikas_admin /_admin/reset >/dev/null
job 10002
j2=$J
work "another worker while the bucket is blocked"
is "$(stat graphql_requests)" 0 "blocked bucket: no GraphQL request at all"
is "$(state "$j2")" "pending|0" "blocked bucket: the new job is rescheduled, attempt given back"
within "$(delay "$j2")" 28 31 "blocked bucket: until the block ends (~30 s)"
like "$(col error_message "$j2")" "^İkas rate limit: waiting [0-9]+ s$" \
    "blocked bucket: error_message says why"
is "$(state "$j1")" "pending|0" "blocked bucket: the first job was not due, not touched"
unlike "$err" "job $j1 started" "blocked bucket: the first job not claimed"

# --- 2. 429 with retryAfter in the body; 429 with neither -----------------------
fresh
job 10003
fail '{"what": "429", "retry_after_body": 45}'
work "a 429 with a body retryAfter"
is "$(state)" "pending|0" "429 (body): pending, the attempt given back"
is "$(delay)" 45 "429 (body): due again after the body's retryAfter (45 s)"
is "$(col error_message)" "İkas answered HTTP 429 Too Many Requests (retry after 45 s)" \
    "429 (body): error_message"
within "$(blocked)" 43 45 "429 (body): the bucket is blocked about 45 s"

fresh
job 10004
fail '{"what": "429"}'
work "a 429 without any Retry-After"
is "$(state)" "pending|0" "429 (none): pending, the attempt given back"
is "$(delay)" 60 "429 (none): the backoff of a first attempt (1 min)"
is "$(col error_message)" "İkas answered HTTP 429 Too Many Requests (no Retry-After)" \
    "429 (none): error_message says there was no Retry-After"
within "$(blocked)" 58 60 "429 (none): the bucket is blocked a minute"

fresh
job 10041
fail '{"what": "429", "retry_after": 999999999}'
work "a 429 asking for 31 years"
is "$(state)" "pending|0" "429 (absurd): pending, the attempt given back"
within "$(blocked)" 3598 3600 "429 (absurd): the bucket is blocked an hour, no more"

# --- 3. HTTP 500, three times across three runs --------------------------------
fresh
job 10005
fail '{"what": "500", "count": 3}'
work "HTTP 500, run 1"
is "$(state)" "pending|1" "500 #1: pending after attempt 1"
is "$(delay)" 120 "500 #1: retried in 2 minutes"
like "$(col error_message)" '^İkas answered HTTP 500: \{"error": "Internal Server Error"\}$' \
    "500 #1: error_message with the status and the answer"
like "$err" "job $J failed \(attempt 1/3\): İkas answered HTTP 500.*; retry in 2 min" \
    "500 #1: the log says when it is retried"
sql "UPDATE job_queue SET scheduled_at = now() WHERE id = '$J'"
work "HTTP 500, run 2"
is "$(state)" "pending|2" "500 #2: pending after attempt 2"
is "$(delay)" 240 "500 #2: retried in 4 minutes"
like "$err" "retry in 4 min" "500 #2: the log says 4 min"
sql "UPDATE job_queue SET scheduled_at = now() WHERE id = '$J'"
work "HTTP 500, run 3"
is "$(state)" "failed|3" "500 #3: failed after attempt 3 of 3"
like "$(col error_message)" '^İkas answered HTTP 500: ' "500 #3: the last error kept"
is "$(col "completed_at IS NOT NULL AND lease_expires_at IS NULL")" t "500 #3: completed_at set"
like "$err" "job $J failed \(attempt 3/3\): İkas answered HTTP 500" "500 #3: the log says so"
is "$(stat graphql_requests)" 3 "500: three GraphQL requests in all"
sql "UPDATE job_queue SET scheduled_at = now() WHERE id = '$J'"
work "a fourth run"
is "$(stat graphql_requests)" 3 "500: a failed job is not run again"

# --- 4. an answer slower than [ikas] timeout --------------------------------------
fresh
sed 's/^\[ikas\]$/[ikas]\ntimeout = 1s/' "$IKASQ_CONFIG" >"$T/timeout.conf"
chmod 600 "$T/timeout.conf"
job 10006
fail '{"what": "slow", "seconds": 3}'
t0=$(date +%s.%N)
work "an answer slower than the timeout" -c "$T/timeout.conf"
t1=$(date +%s.%N)
is "$(state)" "pending|1" "timeout: a failed attempt"
is "$(delay)" 120 "timeout: retried in 2 minutes"
like "$(col error_message)" "^İkas listOrder: http://127\.0\.0\.1:$IKAS_PORT/api/v1/admin/graphql: .*[Tt]imed? ?out" \
    "timeout: error_message says it timed out, and where"
check "timeout: the worker gave up after about 1 s, not 3" \
    python3 -c "import sys; sys.exit(not float(sys.argv[2]) - float(sys.argv[1]) < 2.8)" "$t0" "$t1"

# --- 5. broken JSON, no data, an HTML 502 -------------------------------------
fresh
job 10007
fail '{"what": "broken"}'
work "broken JSON"
is "$(state)" "pending|1" "broken JSON: a failed attempt"
is "$(delay)" 120 "broken JSON: retried in 2 minutes"
is "$(col error_message)" "İkas answered something that is not JSON: '{\"data\": {\"listOrder\": {\"count\": 1, \"data\": ['" \
    "broken JSON: error_message shows the first bytes"

fresh
job 10008
fail '{"what": "nodata"}'
work "an answer without data"
is "$(state)" "pending|1" "no data: a failed attempt"
is "$(delay)" 120 "no data: retried in 2 minutes"
is "$(col error_message)" "İkas's answer has no data.listOrder.data: '{\"message\": \"ok\"}'" \
    "no data: error_message says what is missing"

fresh
job 10009
fail '{"what": "html"}'
work "an HTML 502"
is "$(state)" "pending|1" "HTML 502: a failed attempt"
is "$(delay)" 120 "HTML 502: retried in 2 minutes"
is "$(col error_message)" "İkas answered HTTP 502: <html><body>Bad Gateway</body></html>" \
    "HTML 502: error_message with the status and the first bytes"

# --- 6. GRAPHQL_VALIDATION_FAILED --------------------------------------------------
fresh
job 10010
fail '{"what": "validation"}'
work "GRAPHQL_VALIDATION_FAILED"
is "$(state)" "failed|1" "validation: failed after attempt 1 of 3"
is "$(col max_attempts)" 3 "validation: (of 3)"
is "$(col error_message)" 'İkas GraphQL error GRAPHQL_VALIDATION_FAILED: Variable "$orderNumber" got invalid value' \
    "validation: error_message has the code and İkas's message"
is "$(col "completed_at IS NOT NULL")" t "validation: completed_at set"
like "$err" "job $J failed for good, not retried \(attempt 1/3\)" "validation: the log says not retried"
sql "UPDATE job_queue SET scheduled_at = now() WHERE id = '$J'"
work "again"
is "$(stat graphql_requests)" 1 "validation: one request, no retry"

# --- 7. tokens and credentials --------------------------------------------------------
fresh
old=$(sql "SELECT access_token FROM ikas_token")
job 10011
ikas_admin /_admin/expire >/dev/null
work "with an expired token"
is "$(state)" "completed|1" "expired token: the job completes"
is "$(stat token_requests)" 1 "expired token: renewed once"
is "$(stat graphql_requests)" 2 "expired token: the call made again"
new=$(sql "SELECT access_token FROM ikas_token")
check "expired token: a new token in ikas_token" test -n "$new" -a "$new" != "$old"
like "$err" "İkas no longer accepts the access token; getting a new one" "expired token: the log says so"
is "$(sql "SELECT count(*) FROM ikas_order_cache WHERE order_number = '10011' AND found")" 1 \
    "expired token: the order is cached"

fresh
job 10012
fail '{"what": "login", "count": 2}'
work "LOGIN_REQUIRED twice"
is "$(state)" "failed|1" "LOGIN_REQUIRED twice: failed for good at attempt 1"
is "$(col error_message)" "İkas refused the access token (LOGIN_REQUIRED) even after renewing it: check client_id and client_secret" \
    "LOGIN_REQUIRED twice: error_message names the credentials"
is "$(stat token_requests)" 1 "LOGIN_REQUIRED twice: the token renewed once"
is "$(stat graphql_requests)" 2 "LOGIN_REQUIRED twice: two requests"
sql "UPDATE job_queue SET scheduled_at = now() WHERE id = '$J'"
work "again"
is "$(stat graphql_requests)" 2 "LOGIN_REQUIRED twice: not retried"

fresh
job 10013
fail '{"what": "401", "count": 2}'
work "HTTP 401 twice"
is "$(state)" "failed|1" "401 twice: failed for good at attempt 1"
is "$(col error_message)" "İkas refused the access token (HTTP 401) even after renewing it: check client_id and client_secret" \
    "401 twice: error_message says so"
is "$(stat token_requests)" 1 "401 twice: the token renewed once"
is "$(stat graphql_requests)" 2 "401 twice: two requests"

fresh
job 10014
fail '{"what": "401"}'
work "HTTP 401 once"
is "$(state)" "completed|1" "401 once: renewed, and the job completes"
is "$(stat token_requests)" 1 "401 once: one new token"

fresh
job 10015
fail '{"what": "unauthorized"}'
work "UNAUTHORIZED"
is "$(state)" "failed|1" "UNAUTHORIZED: failed for good at attempt 1"
is "$(col error_message)" "İkas GraphQL error UNAUTHORIZED: Unauthorized" \
    "UNAUTHORIZED: error_message has the code"
is "$(stat token_requests)|$(stat graphql_requests)" "0|1" \
    "UNAUTHORIZED: not taken for a dead token (no renewal, one request)"

# --- 8. an order İkas does not know ------------------------------------------------------
fresh
job 900123
work "an order that does not exist"
is "$(state)" "completed|1" "unknown order: the job completes"
is "$(col result)" "not found at İkas: 900123" "unknown order: the note says so"
is "$(col "error_message IS NULL")" t "unknown order: no error"
is "$(sql "SELECT found, order_data::text, round(extract(epoch FROM expires_at - fetched_at)) FROM ikas_order_cache WHERE order_number = '900123' AND mail_id IS NULL")" \
    "f|null|600" "unknown order: a negative cache entry (10 minutes)"
job 900123
work "the same unknown order again"
is "$(stat graphql_requests)" 1 "unknown order: asked once, then from the cache"
like "$err" "order 900123 not found \(cached\)" "unknown order: the log says cached"

# --- 9. no secret, no token anywhere ------------------------------------------------------
fresh
sort -u "$T/tokens" | grep . >"$T/tokens.u"
ntok=$(wc -l <"$T/tokens.u")
check "several tokens were issued ($ntok)" test "$ntok" -ge 4
check "the -v logs are there" grep -q "started: fetch_ikas_order" "$T/all.log"
unlike "$(cat "$T/all.log")" "test-secret" "no client secret in any -v log"
unlike "$(cat "$T/errors")" "test-secret" "no client secret in any error_message"
is "$(cat "$T/multiline")" "" "every error_message is one line"
leaks=$(grep -F -f "$T/tokens.u" "$T/all.log" "$T/errors")
is "$leaks" "" "no access token in any -v log or error_message"
done_testing
