#!/bin/sh
# A worker killed with SIGKILL: its job is claimed again once the lease
# expires, not before, and completed once; a job that keeps killing its
# workers is failed after max_rescues leases
. "$TOP_SRCDIR/tests/lib.sh"
pg_setup
QD=$TOP_BUILDDIR/tests/helpers/qdrain

"$IKASQ" enqueue noop '{"n":1}' >/dev/null
spawn "$QD" hold 3 >"$T/held"
holder=$!
for i in $(seq 50); do [ -s "$T/held" ] && break; sleep 0.1; done
id=$(cat "$T/held")
is "$(sql "SELECT status, attempts FROM job_queue WHERE id = '$id'")" "processing|1" "the job is held"
kill -9 $holder
wait $holder 2>/dev/null
"$QD" drain 10 60 "$T/early" 2>/dev/null
is "$(wc -l <"$T/early" | tr -d ' ')" 0 "within its lease, nobody else takes it"
sleep 3.2
"$QD" drain 10 60 "$T/late" 2>/dev/null
is "$(cat "$T/late")" "$id" "after the lease expired, another worker completes it"
is "$(sql "SELECT status, attempts, rescues FROM job_queue WHERE id = '$id'")" "completed|1|1" "completed once; the lost attempt was given back"
like "$(sql "SELECT error_message FROM job_queue WHERE id = '$id'")" "^lease expired: worker .* stopped before finishing$" "the rescue is noted"
"$QD" drain 10 60 "$T/again" 2>/dev/null
is "$(wc -l <"$T/again" | tr -d ' ')" 0 "and nobody runs it again"

# a poison job: with max_rescues = 2, the second lost lease fails it
printf '[queue]\nmax_rescues = 2\n' >>"$IKASQ_CONFIG"
sql "DELETE FROM job_queue"
"$IKASQ" enqueue noop '{"n":2}' >/dev/null
for round in 1 2; do
	: >"$T/held"
	spawn "$QD" hold 1 >"$T/held"
	holder=$!
	for i in $(seq 50); do [ -s "$T/held" ] && break; sleep 0.1; done
	kill -9 $holder
	wait $holder 2>/dev/null
	sleep 1.2
done
"$QD" drain 10 60 "$T/poison" 2>/dev/null
is "$(wc -l <"$T/poison" | tr -d ' ')" 0 "the poison job is not run a third time"
is "$(sql "SELECT status, rescues FROM job_queue")" "failed|2" "it is failed after 2 lost leases"
like "$(sql "SELECT error_message FROM job_queue")" "\(2 times; giving up\)$" "and says why"
done_testing
