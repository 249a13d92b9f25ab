/* test-stats.c - the seed's stats JSON and the Prometheus text, byte for byte */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ikasq/queue.h"
#include "tap.h"

static void
fill(struct queue_stats *st)
{
	static struct queue_type_count types[2];

	memset(st, 0, sizeof(*st));
	memset(types, 0, sizeof(types));
	types[0].type = (char *)"fetch_ikas_order";
	types[0].by_status[QS_PENDING] = 12;
	types[0].by_status[QS_PROCESSING] = 2;
	types[0].by_status[QS_COMPLETED] = 150;
	types[0].by_status[QS_FAILED] = 3;
	types[0].total = 167;
	types[1].type = (char *)"odd\"name";
	types[1].by_status[QS_CANCELLED] = 1;
	types[1].total = 1;
	st->types = types;
	st->ntypes = 2;
	st->by_status[QS_PENDING] = 12;
	st->by_status[QS_PROCESSING] = 2;
	st->by_status[QS_COMPLETED] = 150;
	st->by_status[QS_FAILED] = 3;
	st->by_status[QS_CANCELLED] = 1;
	st->total = 168;
	st->oldest_pending_age = 2.5;
	st->cache_fresh = 7;
	st->cache_negative = 1;
	st->cache_expired = 4;
}

static void
test_json(void)
{
	struct queue_stats st;
	char *j;

	fill(&st);
	j = queue_stats_json(&st);
	g_assert_cmpstr(j, ==,
	    "{\"success\":true,\"stats\":{\"byStatus\":{\"pending\":12,"
	    "\"processing\":2,\"completed\":150,\"failed\":3,"
	    "\"cancelled\":1},\"byType\":{\"fetch_ikas_order\":167,"
	    "\"odd\\\"name\":1},\"total\":168}}");
	free(j);
}

static void
test_json_empty(void)
{
	struct queue_stats st;
	char *j;

	memset(&st, 0, sizeof(st));
	j = queue_stats_json(&st);
	g_assert_cmpstr(j, ==,
	    "{\"success\":true,\"stats\":{\"byStatus\":{\"pending\":0,"
	    "\"processing\":0,\"completed\":0,\"failed\":0,\"cancelled\":0},"
	    "\"byType\":{},\"total\":0}}");
	free(j);
}

static void
test_prometheus(void)
{
	struct queue_stats st;
	char *p;

	fill(&st);
	p = queue_stats_prometheus(&st);
	g_assert_nonnull(strstr(p, "# TYPE ikasq_jobs gauge\n"));
	g_assert_nonnull(strstr(p,
	    "ikasq_jobs{type=\"fetch_ikas_order\",status=\"pending\"} 12\n"));
	g_assert_nonnull(strstr(p,
	    "ikasq_jobs{type=\"odd\\\"name\",status=\"cancelled\"} 1\n"));
	g_assert_nonnull(strstr(p, "ikasq_oldest_pending_seconds 2.500\n"));
	g_assert_nonnull(strstr(p,
	    "ikasq_cache_entries{state=\"expired\"} 4\n"));
	/* every line is a comment or "name{labels} value" */
	{
		gchar **lines = g_strsplit(p, "\n", -1);
		int i;

		for (i = 0; lines[i] != NULL; i++) {
			if (lines[i][0] == '\0' || lines[i][0] == '#')
				continue;
			g_assert_true(g_regex_match_simple(
			    "^[a-z_]+(\\{.*\\})? [0-9.]+$", lines[i], 0, 0));
		}
		g_strfreev(lines);
	}
	free(p);
}

int
main(int argc, char **argv)
{
	tap_init(&argc, &argv);
	g_test_add_func("/stats/json", test_json);
	g_test_add_func("/stats/json-empty", test_json_empty);
	g_test_add_func("/stats/prometheus", test_prometheus);
	return g_test_run();
}
