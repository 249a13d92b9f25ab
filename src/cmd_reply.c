/* cmd_reply.c - ikasq reply: a draft answer to one stored mail */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <jansson.h>

#include "ikasq/config.h"
#include "ikasq/http.h"
#include "ikasq/log.h"
#include "ikasq/reply.h"
#include "cmd.h"

static void
print_json(const struct reply_result *r)
{
	json_t *o = json_object();
	char *s;

	json_object_set_new(o, "success", json_true());
	json_object_set_new(o, "mail_id", json_string(r->mail_id));
	json_object_set_new(o, "reply", json_string(r->text));
	json_object_set_new(o, "order_data_used",
	    json_boolean(r->order_data_used));
	json_object_set_new(o, "orders", json_loads(r->orders, 0, NULL));
	json_object_set_new(o, "model", json_string(r->model));
	json_object_set_new(o, "usage", json_loads(r->usage, 0, NULL));
	json_object_set_new(o, "latency_ms", json_integer(r->latency_ms));
	json_object_set_new(o, "ai_latency_ms", json_integer(r->ai_ms));
	json_object_set_new(o, "job_id", r->job_id[0] ?
	    json_string(r->job_id) : json_null());
	s = json_dumps(o, JSON_PRESERVE_ORDER | JSON_INDENT(2));
	printf("%s\n", s);
	free(s);
	json_decref(o);
}

int
cmd_reply(int argc, char **argv, struct ctx *ctx)
{
	static const struct option opts[] = {
		{ "message-id", required_argument, NULL, 'm' },
		{ "wait", required_argument, NULL, 'w' },
		{ "json", no_argument, NULL, 'j' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct reply_opts o;
	struct reply_result r;
	struct ikasq_err err;
	const char *wait = NULL;
	bool json = false;
	int64_t secs;
	int c, ex, rc;

	memset(&o, 0, sizeof(o));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'm': o.message_id = optarg; break;
		case 'w': wait = optarg; break;
		case 'j': json = true; break;
		case 'n': o.dry_run = true; break;
		default: return cmd_bad_option(ctx, argc, argv);
		}
	}
	if (o.message_id != NULL && argc - optind != 0)
		return cmd_usage_error(ctx, "a MAIL_ID and --message-id "
		    "exclude each other");
	if (o.message_id == NULL && argc - optind != 1)
		return cmd_usage_error(ctx, argc - optind == 0 ?
		    "needs a mail id" : "too many arguments");
	if (o.message_id == NULL)
		o.mail_id = argv[optind];
	err_clear(&err);
	if (wait != NULL && (!parse_duration(wait, &secs) || secs > 300)) {
		err_set(&err, IKASQ_EDATA, "wait '%s' is not a number of "
		    "seconds in 0..300", wait);
		return cmd_fail(&err);
	}
	if ((ex = ctx_config(ctx)) != EX_OK)
		return ex;
	o.wait_ms = (wait ? secs : config_duration(ctx->cfg, "reply",
	    "wait")) * 1000;
	if ((ex = ctx_db(ctx)) != EX_OK)
		return ex;
	rc = reply_run(ctx->cfg, ctx->db, &o, &r, &err);
	http_cleanup();
	if (rc != IKASQ_OK) {
		reply_result_release(&r);
		return cmd_fail(&err);
	}
	if (o.dry_run)
		printf("POST chat/completions\n%s\n", r.request);
	else if (json)
		print_json(&r);
	else
		printf("%s\n", r.text);
	if (!o.dry_run)
		log_debug("reply for mail %s: %s order data, %lld ms (AI %lld "
		    "ms)", r.mail_id, r.order_data_used ? "with" : "without",
		    (long long)r.latency_ms, (long long)r.ai_ms);
	reply_result_release(&r);
	return EX_OK;
}
