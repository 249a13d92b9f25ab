#!/bin/sh
# Man pages: mdoc that mandoc -Tlint accepts, and each command's --help
# synopsis the same as its page's SYNOPSIS (git's t0450)
. "$TOP_SRCDIR/tests/lib.sh"
MAN=$TOP_SRCDIR/man
[ -n "${MANDOC:-}" ] || MANDOC=$(command -v mandoc) || skip_all "mandoc is not installed"

# the SYNOPSIS of a page, one synopsis per line, blanks squeezed
synopsis() {
	"$MANDOC" -Tascii -O width=1000 "$1" | sed 's/.\x08//g' |
	    sed -n '/^SYNOPSIS/,/^[A-Z]/p' | sed '1d;$d' |
	    sed 's/^ *//; s/  */ /g; /^$/d'
}
# the usage lines of --help, without "usage:" and "or:"
usage_of() {
	sed -n 's/^usage: //p; s/^ *or: //p; s/^       \(ikasq .*\)/\1/p'
}

lint=$("$MANDOC" -Tlint -W warning "$MAN"/*.1 "$MAN"/*.5 2>&1)
is "$lint" "" "mandoc -Tlint finds nothing in any page"

is "$(synopsis "$MAN/ikasq.1")" "$("$IKASQ" --help | usage_of)" "ikasq --help matches ikasq(1)"
for c in $("$IKASQ" --help | sed -n 's/^  \([a-z]*\) .*/\1/p'); do
	[ "$c" = help ] && continue
	page=$MAN/ikasq-$c.1
	if [ ! -f "$page" ]; then not_ok "ikasq-$c.1 exists"; continue; fi
	is "$(synopsis "$page")" "$("$IKASQ" "$c" --help | usage_of)" "ikasq $c --help matches ikasq-$c(1)"
	like "$(cat "$MAN/ikasq.1")" "^\.Xr ikasq-$c 1" "ikasq(1) refers to ikasq-$c(1)"
done
done_testing
