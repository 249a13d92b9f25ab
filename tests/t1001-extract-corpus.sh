#!/bin/sh
# Order numbers in the labelled corpus (tests/data/corpus): precision and
# recall of the default patterns, each at least 0.95
. "$TOP_SRCDIR/tests/lib.sh"
unset IKASQ_CONFIG
HOME=$T/home; export HOME
C=$TOP_SRCDIR/tests/data/corpus
mkdir "$T/out"
n=0; bad=0
for f in "$C"/*.eml; do
	b=$(basename "$f")
	"$IKASQ" extract "$f" >"$T/out/$b.json" 2>"$T/out/$b.err" || bad=$((bad + 1))
	n=$((n + 1))
done
check "the corpus has at least 60 mails ($n)" [ "$n" -ge 60 ]
is "$bad" 0 "ikasq extract succeeded on every mail"
is "$(cat "$T"/out/*.err)" "" "and printed nothing on stderr"
python3 "$TOP_SRCDIR/tests/extract-score.py" "$C/labels.tsv" "$T/out" >"$T/score"
grep '^#' "$T/score"
set -- $(grep '^precision' "$T/score")
echo "# $*"
check "precision $2 >= 0.95" python3 -c "import sys; sys.exit(not $2 >= 0.95)"
check "recall $4 >= 0.95" python3 -c "import sys; sys.exit(not $4 >= 0.95)"
is "$(grep -c '^[^#]' "$C/labels.tsv")" "$n" "every mail is labelled"
done_testing
