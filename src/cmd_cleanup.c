/* cmd_cleanup.c - ikasq cleanup */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>

#include "ikasq/cache.h"
#include "ikasq/config.h"
#include "ikasq/db.h"
#include "ikasq/queue.h"
#include "cmd.h"

int
cmd_cleanup(int argc, char **argv, struct ctx *ctx)
{
	static const struct option opts[] = {
		{ "older-than", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct ikasq_err err;
	const char *older = NULL;
	int64_t secs;
	long jobs = 0, rows = 0;
	bool json = false;
	char *d;
	int c, ex;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'o')
			older = optarg;
		else if (c == 'j')
			json = true;
		else
			return cmd_bad_option(ctx, argc, argv);
	}
	if (optind != argc)
		return cmd_usage_error(ctx, "unexpected argument '%s'",
		    argv[optind]);
	err_clear(&err);
	if (older != NULL && !parse_duration(older, &secs)) {
		err_set(&err, IKASQ_EDATA, "bad duration '%s': use a number "
		    "with s, m, h, d or w (like 7d)", older);
		return cmd_fail(&err);
	}
	if ((ex = ctx_db(ctx)) != EX_OK)
		return ex;
	if (older == NULL)
		secs = config_duration(ctx->cfg, "queue", "keep_finished");
	if (db_begin(ctx->db, &err) != IKASQ_OK ||
	    queue_cleanup(ctx->db, secs, &jobs, &err) != IKASQ_OK ||
	    cache_purge(ctx->db, &rows, &err) != IKASQ_OK ||
	    db_commit(ctx->db, &err) != IKASQ_OK) {
		db_rollback(ctx->db);
		return cmd_fail(&err);
	}
	if (json) {
		printf("{\"success\":true,\"deletedJobs\":%ld,"
		    "\"deletedCacheRows\":%ld}\n", jobs, rows);
	} else {
		d = format_duration(secs);
		printf("deleted %ld finished job%s older than %s and %ld "
		    "expired cache row%s\n", jobs, jobs == 1 ? "" : "s", d,
		    rows, rows == 1 ? "" : "s");
		free(d);
	}
	return EX_OK;
}
