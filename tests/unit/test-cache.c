/*
 * test-cache.c - the order cache against a real PostgreSQL (run by
 * tests/t0015-cache.sh, which starts the server and sets IKASQ_CONFIG).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ikasq/cache.h"
#include "ikasq/config.h"
#include "ikasq/db.h"
#include "tap.h"

static struct config *cfg;
static struct db *db;

static long
count(const char *sql)
{
	struct ikasq_err err;
	struct db_res *res;
	long n;

	g_assert_cmpint(db_exec(db, sql, 0, NULL, &res, &err), ==, IKASQ_OK);
	n = atol(db_get(res, 0, 0));
	db_res_free(res);
	return n;
}

static void
test_order(void)
{
	struct ikasq_err err;
	struct cache_entry e;
	bool hit;

	g_assert_cmpint(cache_get_order(db, "132141", &e, &hit, &err), ==,
	    IKASQ_OK);
	g_assert_false(hit);
	g_assert_cmpint(cache_put_order(db, "132141",
	    "{\"orderNumber\": \"132141\", \"status\": \"CREATED\"}", 3600,
	    &err), ==, IKASQ_OK);
	g_assert_cmpint(cache_get_order(db, "132141", &e, &hit, &err), ==,
	    IKASQ_OK);
	g_assert_true(hit);
	g_assert_true(e.found);
	g_assert_cmpstr(e.order_number, ==, "132141");
	g_assert_cmpstr(e.order_data, ==,
	    "{\"status\": \"CREATED\", \"orderNumber\": \"132141\"}");
	cache_entry_release(&e);
	/* a second put replaces the row, it does not add one */
	g_assert_cmpint(cache_put_order(db, "132141",
	    "{\"orderNumber\": \"132141\", \"status\": \"DELIVERED\"}", 3600,
	    &err), ==, IKASQ_OK);
	g_assert_cmpint(count("SELECT count(*) FROM ikas_order_cache WHERE "
	    "order_number = '132141'"), ==, 1);
	g_assert_cmpint(cache_get_order(db, "132141", &e, &hit, &err), ==,
	    IKASQ_OK);
	g_assert_nonnull(strstr(e.order_data, "DELIVERED"));
	cache_entry_release(&e);
}

static void
test_negative(void)
{
	struct ikasq_err err;
	struct cache_entry e;
	bool hit;

	g_assert_cmpint(cache_put_order(db, "999999", NULL, 600, &err), ==,
	    IKASQ_OK);
	g_assert_cmpint(cache_get_order(db, "999999", &e, &hit, &err), ==,
	    IKASQ_OK);
	g_assert_true(hit);
	g_assert_false(e.found);
	g_assert_null(e.order_data);
	cache_entry_release(&e);
}

static void
test_ttl(void)
{
	struct ikasq_err err;
	struct cache_entry e;
	long purged;
	bool hit;

	g_assert_cmpint(cache_put_order(db, "55555", "{\"a\": 1}", 1, &err), ==,
	    IKASQ_OK);
	g_assert_cmpint(cache_get_order(db, "55555", &e, &hit, &err), ==,
	    IKASQ_OK);
	g_assert_true(hit);
	cache_entry_release(&e);
	usleep(1200 * 1000);
	g_assert_cmpint(cache_get_order(db, "55555", &e, &hit, &err), ==,
	    IKASQ_OK);
	g_assert_false(hit);
	g_assert_cmpint(cache_purge(db, &purged, &err), ==, IKASQ_OK);
	g_assert_cmpint(purged, ==, 1);
	g_assert_cmpint(count("SELECT count(*) FROM ikas_order_cache WHERE "
	    "order_number = '55555'"), ==, 0);
}

static void
test_mail(void)
{
	struct ikasq_err err;
	struct cache_entry e;
	struct db_res *res;
	char *mail_id;
	bool hit;

	g_assert_cmpint(db_exec(db, "INSERT INTO mails (subject) VALUES "
	    "('nerede') RETURNING id", 0, NULL, &res, &err), ==, IKASQ_OK);
	mail_id = g_strdup(db_get(res, 0, 0));
	db_res_free(res);
	g_assert_cmpint(cache_get_mail(db, mail_id, &e, &hit, &err), ==,
	    IKASQ_OK);
	g_assert_false(hit);
	g_assert_cmpint(cache_put_mail(db, mail_id, "132150",
	    "{\"orderNumber\": \"132150\"}", 3600, &err), ==, IKASQ_OK);
	g_assert_cmpint(cache_put_mail(db, mail_id, "132150",
	    "{\"orderNumber\": \"132150\", \"x\": 2}", 3600, &err), ==,
	    IKASQ_OK);
	g_assert_cmpint(cache_get_mail(db, mail_id, &e, &hit, &err), ==,
	    IKASQ_OK);
	g_assert_true(hit);
	g_assert_cmpstr(e.order_number, ==, "132150");
	g_assert_nonnull(strstr(e.order_data, "\"x\": 2"));
	cache_entry_release(&e);
	/* the per-mail row is not a per-order row */
	g_assert_cmpint(cache_get_order(db, "132150", &e, &hit, &err), ==,
	    IKASQ_OK);
	g_assert_false(hit);
	/* the seed's foreign key: the cache row goes with its mail */
	g_assert_cmpint(db_exec(db, "DELETE FROM mails WHERE id = $1::uuid", 1,
	    (const char *[]){ mail_id }, NULL, &err), ==, IKASQ_OK);
	g_assert_cmpint(cache_get_mail(db, mail_id, &e, &hit, &err), ==,
	    IKASQ_OK);
	g_assert_false(hit);
	g_assert_cmpint(cache_get_mail(db, "not-a-uuid", &e, &hit, &err), ==,
	    IKASQ_ENOTFOUND);
	g_free(mail_id);
}

int
main(int argc, char **argv)
{
	struct strbuf pb = STRBUF_INIT;
	struct ikasq_err err;
	int rc;

	tap_init(&argc, &argv);
	sb_init(&pb);
	if (config_load(NULL, &cfg, &pb) != IKASQ_OK) {
		printf("Bail out! %s", pb.buf);
		return 1;
	}
	sb_release(&pb);
	if (db_connect(cfg, &db, &err) != IKASQ_OK) {
		printf("Bail out! %s\n", err.msg);
		return 1;
	}
	g_test_add_func("/cache/order", test_order);
	g_test_add_func("/cache/negative", test_negative);
	g_test_add_func("/cache/ttl", test_ttl);
	g_test_add_func("/cache/mail", test_mail);
	rc = g_test_run();
	db_close(db);
	config_free(cfg);
	return rc;
}
