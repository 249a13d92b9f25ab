/* cmd_stats.c - ikasq stats */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>

#include "ikasq/queue.h"
#include "cmd.h"

static void
row(const char *name, const long *by, long total)
{
	int s;

	printf("%-20s", name);
	for (s = 0; s < QS_COUNT; s++)
		printf(" %10ld", by[s]);
	printf(" %10ld\n", total);
}

static void
print_table(const struct queue_stats *st)
{
	int i, s;

	printf("%-20s", "job type");
	for (s = 0; s < QS_COUNT; s++)
		printf(" %10s", queue_status_name(s));
	printf(" %10s\n", "total");
	for (i = 0; i < st->ntypes; i++)
		row(st->types[i].type, st->types[i].by_status,
		    st->types[i].total);
	row("(all)", st->by_status, st->total);
	printf("\noldest due job waiting: %.1f s\n", st->oldest_pending_age);
	printf("running jobs past their lease: %ld\n", st->expired_leases);
	printf("order cache: %ld fresh, %ld negative, %ld expired\n",
	    st->cache_fresh, st->cache_negative, st->cache_expired);
}

int
cmd_stats(int argc, char **argv, struct ctx *ctx)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "prometheus", no_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	struct queue_stats st;
	struct ikasq_err err;
	int c, ex, format = 0;
	char *out;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'j' && c != 'p')
			return cmd_bad_option(ctx, argc, argv);
		if (format != 0 && format != c)
			return cmd_usage_error(ctx, "--json and --prometheus "
			    "exclude each other");
		format = c;
	}
	if (optind != argc)
		return cmd_usage_error(ctx, "unexpected argument '%s'",
		    argv[optind]);
	if ((ex = ctx_db(ctx)) != EX_OK)
		return ex;
	err_clear(&err);
	if (queue_stats(ctx->db, &st, &err) != IKASQ_OK)
		return cmd_fail(&err);
	if (format == 'j') {
		out = queue_stats_json(&st);
		printf("%s\n", out);
		free(out);
	} else if (format == 'p') {
		out = queue_stats_prometheus(&st);
		fputs(out, stdout);
		free(out);
	} else {
		print_table(&st);
	}
	queue_stats_release(&st);
	return EX_OK;
}
