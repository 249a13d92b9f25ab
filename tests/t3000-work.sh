#!/bin/sh
# ikasq work against the İkas stand-in: lookups batched and cached, the
# seed's per-mail cache row, summaries, settings checked before any job
. "$TOP_SRCDIR/tests/lib.sh"
pg_setup
ikas_setup
ikas_conf
C=$TOP_SRCDIR/tests/data/corpus
jget() { python3 -c 'import json,sys; d=json.load(sys.stdin)
for k in sys.argv[1].split("."): d=d[int(k)] if isinstance(d,list) else d[k]
print(json.dumps(d) if isinstance(d,(list,dict,bool)) else d)' "$1"; }

for f in "$C"/007-*.eml "$C"/008-*.eml "$C"/011-*.eml; do "$IKASQ" ingest <"$f"; done
"$IKASQ" enqueue fetch_ikas_order '{"order_numbers":["999001","132141"]}' >/dev/null
njobs=$(sql "SELECT count(*) FROM job_queue")
exits 0 "work once" "$IKASQ" work --json
is "$(printf '%s' "$out" | jget success)" true "the seed's JSON: success"
is "$(printf '%s' "$out" | jget processed)" "$njobs" "every job processed"
is "$(printf '%s' "$out" | jget failed)" 0 "none failed"
is "$(ikas_stat token_requests)" 1 "one token request"
is "$(ikas_stat graphql_requests)" 1 "the orders of all jobs in one listOrder call"
is "$(sql "SELECT count(*) FROM job_queue WHERE status = 'completed'")" "$njobs" "the jobs are completed"
like "$(sql "SELECT result FROM job_queue WHERE payload->'order_numbers' ? '999001'")" "^found: 132141; not found at İkas: 999001$" "the job's note says what was found"
is "$(sql "SELECT found, order_data->>'orderNumber' FROM ikas_order_cache WHERE order_number = '132141' AND mail_id IS NULL")" "t|132141" "a per-order cache row"
is "$(sql "SELECT found, order_data::text FROM ikas_order_cache WHERE order_number = '999001'")" "f|null" "a negative entry for the order that does not exist"
is "$(sql "SELECT round(extract(epoch FROM expires_at - fetched_at)) FROM ikas_order_cache WHERE order_number = '999001'")" 600 "with its own TTL (10 minutes)"
is "$(sql "SELECT round(extract(epoch FROM expires_at - fetched_at)) FROM ikas_order_cache WHERE order_number = '132141' AND mail_id IS NULL")" 3600 "found orders live an hour"
mails_with_orders=$(sql "SELECT count(*) FROM mails WHERE cardinality(order_numbers) > 0")
is "$(sql "SELECT count(*) FROM ikas_order_cache c JOIN mails m ON m.id = c.mail_id WHERE c.order_number = ANY (m.order_numbers)")" "$mails_with_orders" "the seed's per-mail row for each mail (getCachedOrder(mailId))"
like "$err" "job [0-9a-f-]+ started: fetch_ikas_order, priority 5 \(attempt 1/3\)" "log: job started (attempt n/m)"
like "$err" "order 132141 found at İkas" "log: order found"
like "$err" "order 999001 not found at İkas" "log: order not found"
like "$err" "cached order 132141 for mail " "log: cached for the mail"
like "$err" "job [0-9a-f-]+ completed" "log: job completed"
like "$err" "worker finished: $njobs processed, 0 failed" "log: worker finished"

# another mail asks for a cached order: no API call
"$IKASQ" enqueue fetch_ikas_order '{"order_numbers":["132141"]}' >/dev/null
exits 0 "a job for an order in the cache" "$IKASQ" work
is "$(ikas_stat graphql_requests)" 1 "is answered from the cache, no API call"
like "$err" "order 132141 found \(cached\)" "and says so"

# --max-jobs and priority order
for i in 1 2 3 4 5; do "$IKASQ" enqueue fetch_ikas_order "{\"order_numbers\":[\"1000$i\"]}" --priority 5 >/dev/null; done
hi=$("$IKASQ" enqueue fetch_ikas_order '{"order_numbers":["20000"]}' --priority 10)
exits 0 "work --max-jobs 2" "$IKASQ" work --max-jobs 2 --json
is "$(printf '%s' "$out" | jget processed)" 2 "two jobs"
is "$(sql "SELECT status FROM job_queue WHERE id = '$hi'")" completed "the priority-10 job went first"
is "$(sql "SELECT count(*) FROM job_queue WHERE status = 'pending'")" 4 "four left"
exits 0 "work with the default (10)" "$IKASQ" work
is "$(sql "SELECT count(*) FROM job_queue WHERE status = 'pending'")" 0 "all done"

# process_mail: parse a stored mail again; cleanup
mid=$(sql "SELECT id FROM mails LIMIT 1")
sql "UPDATE mails SET order_numbers = '{}' WHERE id = '$mid'"
"$IKASQ" enqueue process_mail "{\"mail_id\":\"$mid\"}" >/dev/null
exits 0 "a process_mail job" "$IKASQ" work
is "$(sql "SELECT cardinality(order_numbers) > 0 FROM mails WHERE id = '$mid'")" t "the mail's order numbers are found again"
like "$(sql "SELECT result FROM job_queue WHERE job_type = 'process_mail'")" "order number" "and the job says what it did"
sql "UPDATE job_queue SET completed_at = now() - interval '30 days' WHERE status = 'completed' AND job_type = 'fetch_ikas_order'"
"$IKASQ" enqueue cleanup '{}' >/dev/null
exits 0 "a cleanup job" "$IKASQ" work
like "$(sql "SELECT result FROM job_queue WHERE job_type = 'cleanup'")" "^deleted [1-9][0-9]* finished jobs" "deletes old jobs"

# a job type nobody handles stays for whoever does
other=$("$IKASQ" enqueue send_newsletter '{}')
exits 0 "work with a job of another type" "$IKASQ" work
is "$(sql "SELECT status FROM job_queue WHERE id = '$other'")" pending "is left alone"

# settings: checked before any job is touched
"$IKASQ" enqueue fetch_ikas_order '{"order_numbers":["30000"]}' >/dev/null
p0=$(sql "SELECT count(*) FROM job_queue WHERE status = 'pending'")
cp "$IKASQ_CONFIG" "$T/good.conf"
sed '/^store = /d' "$T/good.conf" >"$T/nostore.conf"; chmod 600 "$T/nostore.conf"
exits 78 "no [ikas] store" "$IKASQ" -c "$T/nostore.conf" work
like "$err" "\[ikas\] store is not set" "names the setting"
sed 's/^client_secret = .*/client_secret = wrong-secret/' "$T/good.conf" >"$T/badsecret.conf"; chmod 600 "$T/badsecret.conf"
sql "DELETE FROM ikas_token"
exits 78 "a wrong client secret" "$IKASQ" -c "$T/badsecret.conf" work
like "$err" "check \[ikas\] client_id and client_secret: İkas refused the client credentials of store 'paen' \(HTTP 400\): invalid client_secret" "says so, with İkas's own words"
unlike "$err" "wrong-secret" "without the secret"
sed 's|^graphql_url = http://127.0.0.1|graphql_url = http://example.com|' "$T/good.conf" >"$T/plain.conf"; chmod 600 "$T/plain.conf"
exits 78 "plain http to a remote host" "$IKASQ" -c "$T/plain.conf" work
like "$err" "must be https://" "is refused"
is "$(sql "SELECT count(*) FROM job_queue WHERE status = 'pending'")" "$p0" "no job was touched"
exits 0 "with good settings again" "$IKASQ" work
is "$(sql "SELECT count(*) FROM job_queue WHERE status = 'pending' AND job_type = 'fetch_ikas_order'")" 0 "it runs"

# the secret and the token never appear in logs or error messages
tok=$(sql "SELECT access_token FROM ikas_token")
"$IKASQ" -v work >"$T/v.log" 2>&1
unlike "$(cat "$T/v.log"; sql "SELECT coalesce(string_agg(error_message, ' '), '') FROM job_queue")" "test-secret|$tok" "no secret or token in -v output or error_message"
done_testing
