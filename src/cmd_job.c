/* cmd_job.c - ikasq job list|show|retry|cancel */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <jansson.h>

#include "ikasq/queue.h"
#include "cmd.h"

static const char *
jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : "";
}

static long
jint(json_t *o, const char *key)
{
	return (long)json_integer_value(json_object_get(o, key));
}

/* "2026-11-29T10:00:00.123456+00:00" -> "2026-11-29 10:00:00" */
static void
short_time(char *dst, size_t size, const char *ts)
{
	snprintf(dst, size, "%.19s", ts);
	if (strlen(dst) > 10 && dst[10] == 'T')
		dst[10] = ' ';
}

static int
job_list(int argc, char **argv, struct ctx *ctx)
{
	static const struct option opts[] = {
		{ "status", required_argument, NULL, 's' },
		{ "type", required_argument, NULL, 't' },
		{ "limit", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct ikasq_err err;
	const char *status = NULL, *type = NULL;
	bool as_json = false;
	long limit = 50;
	char *text, when[32];
	json_t *arr, *o;
	size_t i;
	int c, ex, s;

	optind = 0;
	opterr = 0;
	err_clear(&err);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			status = optarg;
			for (s = 0; s < QS_COUNT; s++)
				if (strcmp(queue_status_name(s), status) == 0)
					break;
			if (s == QS_COUNT) {
				err_set(&err, IKASQ_EDATA, "unknown status '%s'"
				    ": use pending, processing, completed, "
				    "failed or cancelled", status);
				return cmd_fail(&err);
			}
			break;
		case 't': type = optarg; break;
		case 'j': as_json = true; break;
		case 'l':
			if (!parse_int(optarg, 1, 100000, &limit)) {
				err_set(&err, IKASQ_EDATA, "limit '%s' is not an "
				    "integer in 1..100000", optarg);
				return cmd_fail(&err);
			}
			break;
		default:
			return cmd_bad_option(ctx, argc, argv);
		}
	}
	if (optind != argc)
		return cmd_usage_error(ctx, "unexpected argument '%s'",
		    argv[optind]);
	if ((ex = ctx_db(ctx)) != EX_OK)
		return ex;
	if (queue_list(ctx->db, status, type, (int)limit, &text, &err) !=
	    IKASQ_OK)
		return cmd_fail(&err);
	if (as_json) {
		printf("%s\n", text);
		free(text);
		return EX_OK;
	}
	arr = json_loads(text, 0, NULL);
	free(text);
	printf("%-36s  %-18s %-10s %3s %5s  %-19s  %s\n", "id", "type",
	    "status", "pri", "tries", "scheduled", "last error");
	json_array_foreach(arr, i, o) {
		short_time(when, sizeof(when), jstr(o, "scheduled_at"));
		printf("%-36s  %-18s %-10s %3ld %2ld/%-2ld  %-19s  %.60s\n",
		    jstr(o, "id"), jstr(o, "job_type"), jstr(o, "status"),
		    jint(o, "priority"), jint(o, "attempts"),
		    jint(o, "max_attempts"), when, jstr(o, "error_message"));
	}
	json_decref(arr);
	return EX_OK;
}

static int
job_show(int argc, char **argv, struct ctx *ctx)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct ikasq_err err;
	bool as_json = false;
	const char *key;
	char *text, *s;
	json_t *o, *v;
	int c, ex;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'j')
			return cmd_bad_option(ctx, argc, argv);
		as_json = true;
	}
	if (argc - optind != 1)
		return cmd_usage_error(ctx, "'job show' needs one job id");
	if ((ex = ctx_db(ctx)) != EX_OK)
		return ex;
	err_clear(&err);
	if (queue_show(ctx->db, argv[optind], &text, &err) != IKASQ_OK)
		return cmd_fail(&err);
	o = json_loads(text, 0, NULL);
	if (as_json) {
		s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("%s\n", s);
		free(s);
	} else {
		json_object_foreach(o, key, v) {
			if (json_is_null(v))
				continue;
			if (json_is_string(v)) {
				printf("%-17s %s\n", key, json_string_value(v));
				continue;
			}
			s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
			printf("%-17s %s\n", key, s);
			free(s);
		}
	}
	json_decref(o);
	free(text);
	return EX_OK;
}

static int
job_act(int argc, char **argv, struct ctx *ctx, bool retry)
{
	struct ikasq_err err;
	int ex, rc;

	if (argc != 2)
		return cmd_usage_error(ctx, "'job %s' needs one job id",
		    argv[0]);
	if ((ex = ctx_db(ctx)) != EX_OK)
		return ex;
	err_clear(&err);
	rc = retry ? queue_retry(ctx->db, argv[1], &err) :
	    queue_cancel(ctx->db, argv[1], &err);
	if (rc != IKASQ_OK)
		return cmd_fail(&err);
	printf("job %s %s\n", argv[1], retry ? "is pending again" :
	    "is cancelled");
	return EX_OK;
}

int
cmd_job(int argc, char **argv, struct ctx *ctx)
{
	if (argc < 2)
		return cmd_usage_error(ctx, "needs an action");
	if (strcmp(argv[1], "list") == 0)
		return job_list(argc - 1, argv + 1, ctx);
	if (strcmp(argv[1], "show") == 0)
		return job_show(argc - 1, argv + 1, ctx);
	if (strcmp(argv[1], "retry") == 0)
		return job_act(argc - 1, argv + 1, ctx, true);
	if (strcmp(argv[1], "cancel") == 0)
		return job_act(argc - 1, argv + 1, ctx, false);
	return cmd_usage_error(ctx, "unknown action '%s'", argv[1]);
}
