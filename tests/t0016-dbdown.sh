#!/bin/sh
# The database unreachable or unprepared: one line naming the server and
# why, exit 75 (try again) or 78 (fix the configuration), nothing half-written
. "$TOP_SRCDIR/tests/lib.sh"
[ -n "${IKASQ_TEST_DATABASE_URL:-}" ] && skip_all "needs a server of its own to stop"
pg_setup

cfg() { printf '[database]\nconninfo = %s\n' "$1" >"$T/other.conf"; chmod 600 "$T/other.conf"; }

cfg "host=$T/nowhere user=postgres dbname=postgres"
exits 75 "no server on a unix socket" "$IKASQ" -c "$T/other.conf" stats
is "$(printf '%s\n' "$err" | wc -l | tr -d ' ')" 1 "one line"
like "$err" "^ikasq: cannot connect to database 'postgres' on '$T/nowhere:5432': .*$T/nowhere/.s.PGSQL.5432.*No such file or directory" "names the server and why"
is "$out" "" "nothing on stdout"

cfg "host=127.0.0.1 port=1 user=postgres dbname=postgres connect_timeout=2"
exits 75 "connection refused on TCP" "$IKASQ" -c "$T/other.conf" stats
like "$err" "^ikasq: cannot connect to database 'postgres' on '127.0.0.1:1': .*refused" "names host and port"
exits 75 "enqueue is a temporary failure too" "$IKASQ" -c "$T/other.conf" enqueue noop '{}'

cfg "host=$T/pgrun user=postgres dbname=nosuchdb"
exits 78 "a database that does not exist" "$IKASQ" -c "$T/other.conf" stats
like "$err" 'database "nosuchdb" does not exist' "says so"

sql "CREATE DATABASE empty"
cfg "host=$T/pgrun user=postgres dbname=empty"
exits 78 "a database that was never migrated" "$IKASQ" -c "$T/other.conf" stats
like "$err" "has 'ikasq migrate' been run\?" "says what to do"

# the server goes away and comes back: nothing is lost or half-written
"$IKASQ" enqueue noop '{"n":1}' >/dev/null
pg_stop fast
exits 75 "enqueue while the server is down" "$IKASQ" enqueue noop '{"n":2}'
exits 75 "stats while the server is down" "$IKASQ" stats
exits 75 "job retry while the server is down" "$IKASQ" job retry 00000000-0000-0000-0000-000000000000
exits 75 "migrate while the server is down" "$IKASQ" migrate
pg_start || bail "restart failed"
is "$(sql "SELECT string_agg(payload->>'n', ',') FROM job_queue")" 1 "only the job enqueued while it was up exists"
exits 0 "enqueue after the restart" "$IKASQ" enqueue noop '{"n":3}'
done_testing
