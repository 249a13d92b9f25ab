#!/bin/sh
# The command line: dispatch, help, version, usage errors (no database)
. "$TOP_SRCDIR/tests/lib.sh"
unset IKASQ_CONFIG
HOME=$T/home; export HOME

exits 0 "--version" "$IKASQ" --version
like "$out" '^ikasq [0-9]+\.[0-9]+\.[0-9]+$' "prints the version"
exits 0 "--help" "$IKASQ" --help
like "$out" '^usage: ikasq \[-c FILE\] \[-v \| -q\] COMMAND \[ARGS\]' "--help shows the usage"
for c in migrate enqueue stats cleanup job config help; do
	like "$out" "^  $c " "--help lists '$c'"
done
exits 0 "help" "$IKASQ" help
exits 0 "help stats" "$IKASQ" help stats
like "$out" '^usage: ikasq stats \[--json \| --prometheus\]$' "help CMD shows its usage"
exits 0 "stats --help" "$IKASQ" stats --help
like "$out" '^usage: ikasq stats' "CMD --help shows the same usage"
exits 0 "job --help" "$IKASQ" job --help
like "$out" '^   or: ikasq job cancel ID$' "job --help lists every action"

exits 64 "no command" "$IKASQ"
like "$err" '^usage: ikasq' "usage on stderr"
is "$out" "" "nothing on stdout"
exits 64 "unknown command" "$IKASQ" frobnicate
is "$(printf '%s\n' "$err" | head -n 1)" "ikasq: 'frobnicate' is not an ikasq command; see 'ikasq help'" "a line naming it"
like "$err" "^usage: ikasq " "and the usage"
exits 64 "unknown global option" "$IKASQ" --frob stats
like "$err" "unknown option '--frob'" "names the option"
exits 64 "-c without a file" "$IKASQ" -c
exits 64 "help for an unknown command" "$IKASQ" help frobnicate
exits 64 "unknown subcommand option" "$IKASQ" stats --frob
like "$err" "^ikasq: stats: unknown option or missing argument '--frob'" "names the option"
like "$err" "^usage: ikasq stats" "and prints the usage"
exits 64 "stats --json --prometheus" "$IKASQ" stats --json --prometheus
exits 64 "stats with an argument" "$IKASQ" stats now
exits 64 "enqueue without arguments" "$IKASQ" enqueue
exits 64 "enqueue with one argument" "$IKASQ" enqueue noop
exits 64 "enqueue with three arguments" "$IKASQ" enqueue noop '{}' extra
exits 64 "enqueue --priority without a value" "$IKASQ" enqueue noop '{}' --priority
exits 64 "job without an action" "$IKASQ" job
exits 64 "job with an unknown action" "$IKASQ" job frob
exits 64 "job show without an id" "$IKASQ" job show
exits 64 "job retry with two ids" "$IKASQ" job retry a b
exits 64 "config without an action" "$IKASQ" config
exits 64 "config with an unknown action" "$IKASQ" config frob
exits 64 "cleanup with an argument" "$IKASQ" cleanup now

# bad values are data errors (65), found before any database is needed
PGHOST=$T/nowhere; export PGHOST
exits 65 "priority 11" "$IKASQ" enqueue noop '{}' --priority 11
is "$err" "ikasq: priority '11' is not an integer in 0..10" "names the value"
exits 65 "priority -1" "$IKASQ" enqueue noop '{}' --priority -1
exits 65 "priority abc" "$IKASQ" enqueue noop '{}' --priority abc
exits 65 "a bad job type" "$IKASQ" enqueue 'Fetch Order' '{}'
like "$err" "bad job type 'Fetch Order'" "names the type"
exits 65 "a bad relative time" "$IKASQ" enqueue noop '{}' --at +5x
exits 65 "a bad duration" "$IKASQ" cleanup --older-than 7days
like "$err" "bad duration '7days'" "names the duration"
exits 65 "a bad status filter" "$IKASQ" job list --status done
exits 65 "a bad limit" "$IKASQ" job list --limit 0

# a closed stdout is an error, not a silent success
if [ -e /dev/full ]; then
	"$IKASQ" --help >/dev/full 2>"$T/full.err"; rc=$?
	check "writing to a full device fails (exit $rc)" [ "$rc" -ne 0 ]
fi
done_testing
