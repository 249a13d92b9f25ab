/*
 * cmd_work.c - ikasq work: one run for cron (the seed's POST
 * /api/queue/process), or a daemon woken by NOTIFY
 */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <jansson.h>

#include "ikasq/config.h"
#include "ikasq/http.h"
#include "ikasq/ikas.h"
#include "ikasq/log.h"
#include "ikasq/worker.h"
#include "cmd.h"

static void
on_signal(int sig)
{
	(void)sig;
	worker_stop = 1;
}

static void
print_json(const struct worker *w, bool ok)
{
	json_t *o = json_object(), *errs = json_array();
	char *s;
	int i;

	for (i = 0; i < w->nerrors; i++)
		json_array_append_new(errs, json_string(w->errors[i]));
	json_object_set_new(o, "success", json_boolean(ok));
	json_object_set_new(o, "processed", json_integer(w->processed));
	json_object_set_new(o, "failed", json_integer(w->failed + w->retried));
	json_object_set_new(o, "errors", errs);
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	printf("%s\n", s);
	free(s);
	json_decref(o);
}

int
cmd_work(int argc, char **argv, struct ctx *ctx)
{
	static const struct option opts[] = {
		{ "max-jobs", required_argument, NULL, 'm' },
		{ "follow", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct worker w;
	struct ikasq_err err;
	struct sigaction sa;
	const char *max = NULL;
	bool follow = false, json = false;
	long max_jobs;
	int c, ex, rc;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'm': max = optarg; break;
		case 'f': follow = true; break;
		case 'j': json = true; break;
		default: return cmd_bad_option(ctx, argc, argv);
		}
	}
	if (optind != argc)
		return cmd_usage_error(ctx, "unexpected argument '%s'",
		    argv[optind]);
	if (follow && (max || json))
		return cmd_usage_error(ctx, "--follow runs until stopped: no "
		    "--max-jobs or --json");
	err_clear(&err);
	if (max != NULL && !parse_int(max, 1, 1000000, &max_jobs)) {
		err_set(&err, IKASQ_EDATA, "max jobs '%s' is not an integer "
		    "in 1..1000000", max);
		return cmd_fail(&err);
	}
	if ((ex = ctx_config(ctx)) != EX_OK)
		return ex;
	if (max == NULL)
		max_jobs = config_int(ctx->cfg, "worker", "max_jobs");
	if ((ex = ctx_db(ctx)) != EX_OK)
		return ex;
	worker_init(&w, ctx->cfg, ctx->db);
	/* wrong İkas settings stop us before any job is touched */
	rc = ikas_new(ctx->cfg, &w.ikas, &err);
	if (rc == IKASQ_OK)
		rc = ikas_token_ensure(w.ikas, ctx->db, &err);
	if (rc == IKASQ_EPERM) {
		err_prefix(&err, "check [ikas] client_id and client_secret");
		err.rc = IKASQ_ECONFIG;
		rc = IKASQ_ECONFIG;
	}
	if (rc != IKASQ_OK) {
		if (json)
			print_json(&w, false);
		worker_release(&w);
		return cmd_fail(&err);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (follow) {
		rc = worker_follow(&w, &err);
	} else {
		log_info("queue worker started (at most %ld jobs)", max_jobs);
		rc = worker_run_once(&w, max_jobs, &err);
		log_info("worker finished: %ld processed, %ld failed",
		    w.processed, w.failed + w.retried);
		if (json)
			print_json(&w, rc == IKASQ_OK);
	}
	worker_release(&w);
	http_cleanup();
	if (rc != IKASQ_OK)
		return cmd_fail(&err);
	return EX_OK;
}
