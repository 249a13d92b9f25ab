#!/bin/sh
# The order cache module against a real PostgreSQL (tests/unit/test-cache.c)
. "$TOP_SRCDIR/tests/lib.sh"
pg_setup
"$TOP_BUILDDIR/tests/unit/test-cache"
