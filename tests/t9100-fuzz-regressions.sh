#!/bin/sh
# Fuzzing regressions: every input kept in tests/data/fuzz/TARGET/ (a
# crash, leak, timeout or failed check that fuzz/run once found) goes again
# through the code it broke, with this build: through fuzz/replay-TARGET
# (the target fuzz/fuzz_TARGET.c with its checks, run once per input), and
# for mime also through `ikasq extract FILE`, with the default size limit
# and with "[ingest] max_size = 1k" (the target parses both ways).  The
# seeds of each target (fuzz/seeds/TARGET, for mime the test mail and
# CPython's email test data too, for config the example of ikasq.conf(5))
# go through the replay drivers as well, so no target goes untested while
# it has no regression inputs.  Built with --enable-sanitizers (as
# scripts/test does), a leak or a bad read fails here too.
. "$TOP_SRCDIR/tests/lib.sh"
command -v timeout >/dev/null 2>&1 || skip_all "needs timeout(1)"

targets="mime html ikas ai config"
# a g_critical is a library called wrongly: as fuzz/run, make it a crash
G_DEBUG=fatal-criticals
G_SLICE=always-malloc
export G_DEBUG G_SLICE
# the configuration ikasq extract reads: only this test's
for _v in $(env | sed -n 's/^\(IKASQ_[A-Za-z0-9_]*\)=.*/\1/p'); do
	unset "$_v"
done
: >"$T/default.conf"
printf '[ingest]\nmax_size = 1k\n' >"$T/small.conf"
chmod 600 "$T/default.conf" "$T/small.conf"

# expect CODE DESC CMD...: like exits, with the end of stderr on failure
expect() {
	_c=$1 _d=$2; shift 2
	"$@" >"$T/out" 2>"$T/err"
	_rc=$?
	if [ "$_rc" = "$_c" ]; then
		ok "$_d"
	else
		not_ok "$_d"
		if [ "$_rc" = 124 ]; then diag "timed out"
		elif [ "$_rc" -gt 128 ]; then diag "killed by signal $((_rc - 128))"
		else diag "exit $_rc, expected $_c"; fi
		diag "$(tail -n 25 "$T/err")"
	fi
}

# CPython's email test corpus, when installed
pydata=$(python3 -c 'import os, test.test_email as t; print(os.path.join(os.path.dirname(t.__file__), "data"))' 2>/dev/null)
[ -n "$pydata" ] && [ -d "$pydata" ] || pydata=

# the example of ikasq.conf(5), as fuzz/run seeds it
mkdir "$T/man"
sed -n '/^\.Sh EXAMPLES/,/^\.Sh SEE ALSO/p' "$TOP_SRCDIR/man/ikasq.conf.5" |
    sed -n '/^\.Bd -literal/,/^\.Ed/p' | sed '1d;$d' |
    sed 's/\\e/\\/g; s/\\&//g' >"$T/man/example.conf"

for t in $targets; do
	drv=$TOP_BUILDDIR/fuzz/replay-$t
	if [ ! -x "$drv" ]; then
		not_ok "fuzz/replay-$t is built"
		diag "no $drv: make check builds it (check_PROGRAMS)"
		continue
	fi

	# the regression inputs, one by one
	n=0
	for f in "$TOP_SRCDIR/tests/data/fuzz/$t"/*; do
		[ -f "$f" ] || continue
		n=$((n + 1))
		name=$t/$(basename "$f")
		expect 0 "replay $name" timeout 60 "$drv" "$f"
		if [ "$t" = mime ]; then
			# an empty file is refused (65), anything else read
			code=0
			[ -s "$f" ] || code=65
			expect $code "ikasq extract $name" env \
			    IKASQ_CONFIG="$T/default.conf" timeout 60 \
			    "$IKASQ" extract "$f"
			expect $code "ikasq extract $name, max_size 1k" env \
			    IKASQ_CONFIG="$T/small.conf" timeout 60 \
			    "$IKASQ" extract "$f"
		fi
	done
	[ "$n" -gt 0 ] || ok "# SKIP no regression inputs in tests/data/fuzz/$t yet"

	# the seeds, in one run (-v: the last name on stderr is the culprit)
	set -- "$TOP_SRCDIR/fuzz/seeds/$t"
	case $t in
	mime)
		set -- "$@" "$TOP_SRCDIR/tests/data/corpus" \
		    "$TOP_SRCDIR/tests/data/holdout"
		[ -n "$pydata" ] && set -- "$@" "$pydata"
		;;
	config)
		set -- "$@" "$T/man"
		;;
	esac
	nseeds=$(find "$@" -maxdepth 1 -type f ! -name '.*' | wc -l | tr -d ' ')
	check "fuzz/seeds/$t has seeds" [ "$nseeds" -gt 0 ]
	expect 0 "replay-$t over its $nseeds seeds" timeout 600 "$drv" -v "$@"
done
done_testing
