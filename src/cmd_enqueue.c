/* cmd_enqueue.c - ikasq enqueue */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "ikasq/config.h"
#include "ikasq/log.h"
#include "ikasq/queue.h"
#include "cmd.h"

int
cmd_enqueue(int argc, char **argv, struct ctx *ctx)
{
	static const struct option opts[] = {
		{ "priority", required_argument, NULL, 'p' },
		{ "at", required_argument, NULL, 'a' },
		{ "dedupe", required_argument, NULL, 'd' },
		{ "max-attempts", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	struct job_spec spec = { NULL, NULL, 5, NULL, NULL, 0 };
	struct strbuf in = STRBUF_INIT;
	struct ikasq_err err;
	const char *prio = NULL, *maxa = NULL, *at = NULL;
	char id[37], when[64];
	bool inserted;
	long v;
	int c, ex, rc;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': prio = optarg; break;
		case 'a': at = optarg; break;
		case 'd': spec.dedupe_key = optarg; break;
		case 'm': maxa = optarg; break;
		default: return cmd_bad_option(ctx, argc, argv);
		}
	}
	if (argc - optind != 2)
		return cmd_usage_error(ctx, argc - optind < 2 ?
		    "needs a job type and a JSON payload" :
		    "too many arguments");
	spec.type = argv[optind];
	spec.payload = argv[optind + 1];
	err_clear(&err);
	if (prio != NULL) {
		if (!parse_int(prio, QUEUE_PRIORITY_MIN, QUEUE_PRIORITY_MAX,
		    &v)) {
			err_set(&err, IKASQ_EDATA, "priority '%s' is not an "
			    "integer in 0..10", prio);
			return cmd_fail(&err);
		}
		spec.priority = (int)v;
	}
	if (maxa != NULL) {
		if (!parse_int(maxa, 1, 100, &v)) {
			err_set(&err, IKASQ_EDATA, "max attempts '%s' is not an "
			    "integer in 1..100", maxa);
			return cmd_fail(&err);
		}
		spec.max_attempts = (int)v;
	}
	if (at != NULL && at[0] == '+') {
		int64_t secs;
		time_t t;
		struct tm tm;

		if (!parse_duration(at + 1, &secs) || secs > 100LL * 365 *
		    86400) {
			err_set(&err, IKASQ_EDATA, "bad time '%s': use +DURATION "
			    "(like +10m) or ISO 8601", at);
			return cmd_fail(&err);
		}
		t = (time_t)(now_epoch() + secs);
		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		spec.run_at = when;
	} else {
		spec.run_at = at;
	}
	if (strcmp(spec.payload, "-") == 0) {
		sb_init(&in);
		if (!read_all_fd(STDIN_FILENO, &in)) {
			err_set(&err, IKASQ_EIO, "cannot read the payload from "
			    "standard input");
			sb_release(&in);
			return cmd_fail(&err);
		}
		spec.payload = in.buf;
	}
	if (!queue_type_valid(spec.type)) {
		err_set(&err, IKASQ_EDATA, "bad job type '%s': use 1 to 64 of "
		    "a-z 0-9 _ . -", spec.type);
		sb_release(&in);
		return cmd_fail(&err);
	}
	if ((ex = ctx_db(ctx)) != EX_OK) {
		sb_release(&in);
		return ex;
	}
	if (spec.max_attempts == 0)
		spec.max_attempts = (int)config_int(ctx->cfg, "queue",
		    "max_attempts");
	rc = queue_enqueue(ctx->db, &spec, id, &inserted, &err);
	sb_release(&in);
	if (rc != IKASQ_OK)
		return cmd_fail(&err);
	if (!inserted)
		log_info("a job with dedupe key '%s' is already queued",
		    spec.dedupe_key);
	printf("%s\n", id);
	return EX_OK;
}
