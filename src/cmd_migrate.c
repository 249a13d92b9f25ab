/* cmd_migrate.c - ikasq migrate */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <sysexits.h>

#include "ikasq/db.h"
#include "ikasq/migrate.h"
#include "cmd.h"

int
cmd_migrate(int argc, char **argv, struct ctx *ctx)
{
	static const struct option opts[] = {
		{ "status", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct strbuf report = STRBUF_INIT;
	struct ikasq_err err;
	bool status_only = false;
	int c, ex, applied;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 's')
			status_only = true;
		else
			return cmd_bad_option(ctx, argc, argv);
	}
	if (optind != argc)
		return cmd_usage_error(ctx, "unexpected argument '%s'",
		    argv[optind]);
	if ((ex = ctx_db(ctx)) != EX_OK)
		return ex;
	sb_init(&report);
	err_clear(&err);
	if (migrate_run(ctx->db, status_only, &report, &applied, &err) !=
	    IKASQ_OK) {
		fputs(report.buf, stdout);
		sb_release(&report);
		return cmd_fail(&err);
	}
	fputs(report.buf, stdout);
	if (!status_only)
		printf("%s: schema '%s' is up to date (%d migration%s "
		    "applied now, %d in all)\n", db_describe(ctx->db),
		    db_schema(ctx->db), applied, applied == 1 ? "" : "s",
		    nmigrations);
	sb_release(&report);
	return EX_OK;
}
