#!/bin/sh
# 4 processes claim from 20,000 jobs at once: every job is completed exactly
# once, none twice, none left behind
. "$TOP_SRCDIR/tests/lib.sh"
pg_setup
QD=$TOP_BUILDDIR/tests/helpers/qdrain
N=20000

"$QD" enqueue $N 1000 || bail "enqueue failed"
is "$(sql "SELECT count(*) FROM job_queue WHERE status = 'pending'")" $N "$N jobs pending"
pids=""
for w in 1 2 3 4; do
	spawn "$QD" drain 50 300 "$T/w$w.ids" 2>"$T/w$w.err"
	pids="$pids $!"
done
fails=0
for p in $pids; do wait "$p" || fails=$((fails + 1)); done
is "$fails" 0 "all four workers finished without an error"
cat "$T"/w?.ids >"$T/all.ids"
is "$(wc -l <"$T/all.ids" | tr -d ' ')" $N "the workers completed $N jobs between them"
is "$(sort "$T/all.ids" | uniq -d | wc -l | tr -d ' ')" 0 "no job was completed twice"
busy=0
for w in 1 2 3 4; do [ -s "$T/w$w.ids" ] && busy=$((busy + 1)); done
is "$busy" 4 "every worker got a share"
is "$(sql "SELECT status || ':' || count(*) FROM job_queue GROUP BY status")" "completed:$N" "every row is completed"
is "$(sql "SELECT count(*) FROM job_queue WHERE attempts <> 1")" 0 "each was claimed exactly once"
sql "SELECT id FROM job_queue" | sort >"$T/db.ids"
sort "$T/all.ids" >"$T/all.sorted"
check "the completed ids are exactly the rows" cmp -s "$T/db.ids" "$T/all.sorted"
done_testing
