/* cmd_fetch.c - ikasq fetch: IMAP into the pipeline, once or as a daemon */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "ikasq/config.h"
#include "ikasq/db.h"
#include "ikasq/extract.h"
#include "ikasq/fetch.h"
#include "ikasq/log.h"
#include "cmd.h"

static void
on_signal(int sig)
{
	(void)sig;
	fetch_stop = 1;
}

int
cmd_fetch(int argc, char **argv, struct ctx *ctx)
{
	static const struct option opts[] = {
		{ "idle", no_argument, NULL, 'i' },
		{ "account", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	struct extractor *x = NULL;
	struct fetch_totals t;
	struct ikasq_err err;
	struct sigaction sa;
	const char *account = NULL;
	bool idle = false;
	int c, ex, rc;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i': idle = true; break;
		case 'a': account = optarg; break;
		default: return cmd_bad_option(ctx, argc, argv);
		}
	}
	if (optind != argc)
		return cmd_usage_error(ctx, "unexpected argument '%s'",
		    argv[optind]);
	if ((ex = ctx_config(ctx)) != EX_OK)
		return ex;
	/* from cron, say nothing unless something is wrong: cron mails every
	 * line (-v brings the details back) */
	if (!idle && ctx->log_level == -2 && !isatty(STDERR_FILENO) &&
	    log_get_level() == LOG_LVL_INFO)
		log_set_level(LOG_LVL_WARN);
	err_clear(&err);
	if (fetch_check(ctx->cfg, account, &err) != IKASQ_OK ||
	    extractor_new(ctx->cfg, &x, &err) != IKASQ_OK)
		return cmd_fail(&err);
	if ((ex = ctx_db(ctx)) != EX_OK) {
		extractor_free(x);
		return ex;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (idle) {
		rc = fetch_idle(ctx->cfg, ctx->db, x, account, &err);
	} else {
		rc = fetch_once(ctx->cfg, ctx->db, x, account, &t, &err);
		char refused[96] = "";

		if (t.refused > 0)
			snprintf(refused, sizeof(refused), ", %ld refused by "
			    "the database (left on the server)", t.refused);
		log_info("%ld mailbox%s, %ld message%s fetched: %ld new, %ld "
		    "already stored%s, %ld job%s queued", t.mailboxes,
		    t.mailboxes == 1 ? "" : "es", t.fetched,
		    t.fetched == 1 ? "" : "s", t.stored, t.duplicates, refused,
		    t.jobs, t.jobs == 1 ? "" : "s");
		/* each was named as it was met; the run says so in its
		 * status, once: the next run has moved past them */
		if (rc == IKASQ_OK && t.refused > 0) {
			extractor_free(x);
			return EX_DATAERR;
		}
	}
	extractor_free(x);
	if (rc == IKASQ_OK)
		return EX_OK;
	if (idle || rc == IKASQ_ECONFIG)
		return cmd_fail(&err);
	/* fetch_once logged every problem as it met it */
	return err_exit_code(rc);
}
