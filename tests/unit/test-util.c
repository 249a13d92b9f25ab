/* test-util.c - durations, integers, backoff arithmetic, strbuf */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ikasq/err.h"
#include "ikasq/util.h"
#include "tap.h"

static void
test_duration(void)
{
	int64_t s;
	char *f;

	g_assert_true(parse_duration("90", &s));
	g_assert_cmpint(s, ==, 90);
	g_assert_true(parse_duration("10m", &s));
	g_assert_cmpint(s, ==, 600);
	g_assert_true(parse_duration("1h", &s));
	g_assert_cmpint(s, ==, 3600);
	g_assert_true(parse_duration("7d", &s));
	g_assert_cmpint(s, ==, 604800);
	g_assert_true(parse_duration("2w", &s));
	g_assert_cmpint(s, ==, 1209600);
	g_assert_false(parse_duration("", &s));
	g_assert_false(parse_duration("h", &s));
	g_assert_false(parse_duration("-5", &s));
	g_assert_false(parse_duration("5 m", &s));
	g_assert_false(parse_duration("5mm", &s));
	g_assert_false(parse_duration("1x", &s));
	g_assert_false(parse_duration("99999999999999999999", &s));
	g_assert_false(parse_duration("9999999999999999w", &s));
	f = format_duration(3600);
	g_assert_cmpstr(f, ==, "1h");
	free(f);
	f = format_duration(90);
	g_assert_cmpstr(f, ==, "90s");
	free(f);
	f = format_duration(604800);
	g_assert_cmpstr(f, ==, "1w");
	free(f);
}

static void
test_int(void)
{
	long v;

	g_assert_true(parse_int("5", 0, 10, &v));
	g_assert_cmpint(v, ==, 5);
	g_assert_true(parse_int("0", 0, 10, &v));
	g_assert_false(parse_int("11", 0, 10, &v));
	g_assert_false(parse_int("-1", 0, 10, &v));
	g_assert_false(parse_int("5x", 0, 10, &v));
	g_assert_false(parse_int(" 5", 0, 10, &v));
	g_assert_false(parse_int("", 0, 10, &v));
	g_assert_false(parse_int("99999999999999999999999", 0, 10, &v));
}

/* The seed: retry at now + 2^attempts minutes: 2, 4, 8 ... */
static void
test_backoff(void)
{
	int64_t day = 86400;

	g_assert_cmpint(backoff_seconds(0, 60, day), ==, 60);
	g_assert_cmpint(backoff_seconds(1, 60, day), ==, 120);
	g_assert_cmpint(backoff_seconds(2, 60, day), ==, 240);
	g_assert_cmpint(backoff_seconds(3, 60, day), ==, 480);
	g_assert_cmpint(backoff_seconds(10, 60, day), ==, 61440);
	g_assert_cmpint(backoff_seconds(11, 60, day), ==, day);
	g_assert_cmpint(backoff_seconds(1000, 60, day), ==, day);
	g_assert_cmpint(backoff_seconds(3, 60, 300), ==, 300);
	g_assert_cmpint(backoff_seconds(-4, 60, day), ==, 60);
	/* a shorter unit, for tests and impatient operators */
	g_assert_cmpint(backoff_seconds(1, 1, day), ==, 2);
	g_assert_cmpint(backoff_seconds(3, 1, day), ==, 8);
}

static void
test_uuid(void)
{
	g_assert_true(is_uuid("0b3d2c1e-9f8a-4e7b-8c6d-5a4f3e2d1c0b"));
	g_assert_true(is_uuid("0B3D2C1E-9F8A-4E7B-8C6D-5A4F3E2D1C0B"));
	g_assert_false(is_uuid("0b3d2c1e9f8a4e7b8c6d5a4f3e2d1c0b"));
	g_assert_false(is_uuid("0b3d2c1e-9f8a-4e7b-8c6d-5a4f3e2d1c0"));
	g_assert_false(is_uuid("0b3d2c1e-9f8a-4e7b-8c6d-5a4f3e2d1c0bb"));
	g_assert_false(is_uuid("zb3d2c1e-9f8a-4e7b-8c6d-5a4f3e2d1c0b"));
	g_assert_false(is_uuid(""));
}

static void
test_strbuf(void)
{
	struct strbuf sb = STRBUF_INIT;
	char *p;
	int i;

	sb_init(&sb);
	g_assert_cmpstr(sb.buf, ==, "");
	for (i = 0; i < 1000; i++)
		sb_addf(&sb, "%d,", i);
	g_assert_cmpuint(sb.len, ==, strlen(sb.buf));
	g_assert_true(g_str_has_prefix(sb.buf, "0,1,2,"));
	g_assert_true(g_str_has_suffix(sb.buf, "998,999,"));
	sb_reset(&sb);
	sb_add(&sb, "a\0b", 3);
	g_assert_cmpuint(sb.len, ==, 3);
	p = sb_detach(&sb);
	g_assert_null(sb.buf);
	free(p);
}

static void
test_exit_codes(void)
{
	g_assert_cmpint(err_exit_code(IKASQ_OK), ==, 0);
	g_assert_cmpint(err_exit_code(IKASQ_EUSAGE), ==, 64);
	g_assert_cmpint(err_exit_code(IKASQ_EDATA), ==, 65);
	g_assert_cmpint(err_exit_code(IKASQ_ENOTFOUND), ==, 65);
	g_assert_cmpint(err_exit_code(IKASQ_EUNAVAIL), ==, 69);
	g_assert_cmpint(err_exit_code(IKASQ_EINTERNAL), ==, 70);
	g_assert_cmpint(err_exit_code(IKASQ_ETEMP), ==, 75);
	g_assert_cmpint(err_exit_code(IKASQ_EPERM), ==, 77);
	g_assert_cmpint(err_exit_code(IKASQ_ECONFIG), ==, 78);
}

int
main(int argc, char **argv)
{
	tap_init(&argc, &argv);
	g_test_add_func("/util/duration", test_duration);
	g_test_add_func("/util/int", test_int);
	g_test_add_func("/util/backoff", test_backoff);
	g_test_add_func("/util/uuid", test_uuid);
	g_test_add_func("/util/strbuf", test_strbuf);
	g_test_add_func("/util/exit-codes", test_exit_codes);
	return g_test_run();
}
