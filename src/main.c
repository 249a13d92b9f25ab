/*
 * main.c - ikasq: global options and the subcommand table (git's git.c)
 */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <syslog.h>
#include <unistd.h>

#include "ikasq/config.h"
#include "ikasq/db.h"
#include "ikasq/log.h"
#include "cmd.h"

static int cmd_help_cmd(int argc, char **argv, struct ctx *ctx);

static const struct command commands[] = {
	{ "migrate", cmd_migrate,
	  "ikasq migrate [--status]",
	  "apply the database schema (idempotent)" },
	{ "fetch", cmd_fetch,
	  "ikasq fetch [--idle] [--account NAME]",
	  "fetch new mail over IMAP: one pass, or a daemon with IDLE" },
	{ "ingest", cmd_ingest,
	  "ikasq ingest [--priority N] [--mbox FILE | --maildir DIR]",
	  "store a mail from stdin (MDA) or import an mbox or Maildir" },
	{ "extract", cmd_extract,
	  "ikasq extract [--text] [FILE | --mbox FILE | --maildir DIR]",
	  "print the headers and order numbers found in mail, as JSON" },
	{ "work", cmd_work,
	  "ikasq work [--max-jobs N] [--json | --follow]",
	  "look orders up at İkas: one run for cron, or a daemon" },
	{ "reply", cmd_reply,
	  "ikasq reply [--wait SECONDS] [--json] [--dry-run] "
	  "(MAIL_ID | --message-id ID)",
	  "draft an answer to a stored mail with its order facts" },
	{ "enqueue", cmd_enqueue,
	  "ikasq enqueue [--priority N] [--at TIME] [--dedupe KEY] "
	  "[--max-attempts N] TYPE JSON",
	  "add a job to the queue and print its id" },
	{ "stats", cmd_stats,
	  "ikasq stats [--json | --prometheus]",
	  "queue and cache statistics" },
	{ "cleanup", cmd_cleanup,
	  "ikasq cleanup [--older-than DURATION] [--json]",
	  "delete old finished jobs and expired cache rows" },
	{ "job", cmd_job,
	  "ikasq job list [--status STATUS] [--type TYPE] [--limit N] "
	  "[--json]\n"
	  "ikasq job show [--json] ID\n"
	  "ikasq job retry ID\n"
	  "ikasq job cancel ID",
	  "inspect and act on single jobs" },
	{ "config", cmd_config,
	  "ikasq config check",
	  "print the effective configuration, secrets masked" },
	{ "help", cmd_help_cmd,
	  "ikasq help [COMMAND]",
	  "show help for ikasq or one command" },
};

static const char main_usage[] =
    "usage: ikasq [-c FILE] [-v | -q] COMMAND [ARGS]\n"
    "       ikasq --version | --help\n";

static void
print_usage(FILE *f, const char *usage)
{
	const char *p = usage;
	bool first = true;

	while (*p != '\0') {
		size_t n = strcspn(p, "\n");

		fprintf(f, "%s%.*s\n", first ? "usage: " : "   or: ", (int)n,
		    p);
		first = false;
		p += n;
		if (*p == '\n')
			p++;
	}
}

static void
print_main_help(FILE *f)
{
	size_t i;

	fputs(main_usage, f);
	fputs("\ncommands:\n", f);
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name,
		    commands[i].summary);
	fputs("\n'ikasq help COMMAND' or 'man ikasq-COMMAND' tells more.\n",
	    f);
}

static const struct command *
find_command(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int
cmd_help(const struct command *cmd)
{
	print_usage(stdout, cmd->usage);
	printf("\n%s\n", cmd->summary);
	return EX_OK;
}

static int
cmd_help_cmd(int argc, char **argv, struct ctx *ctx)
{
	const struct command *c;

	if (argc > 2)
		return cmd_usage_error(ctx, "too many arguments");
	if (argc < 2) {
		print_main_help(stdout);
		return EX_OK;
	}
	c = find_command(argv[1]);
	if (c == NULL) {
		log_error("'%s' is not an ikasq command; see 'ikasq help'",
		    argv[1]);
		return EX_USAGE;
	}
	return cmd_help(c);
}

int
cmd_usage_error(const struct ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	char msg[512];

	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		log_error("%s: %s", ctx->cmd->name, msg);
	}
	print_usage(stderr, ctx->cmd->usage);
	return EX_USAGE;
}

int
cmd_bad_option(const struct ctx *ctx, int argc, char **argv)
{
	const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] :
	    "?";

	if (optopt != 0 && strncmp(arg, "--", 2) != 0)
		return cmd_usage_error(ctx, "unknown option or missing "
		    "argument '-%c'", optopt);
	return cmd_usage_error(ctx, "unknown option or missing argument "
	    "'%s'", arg);
}

int
cmd_fail(const struct ikasq_err *err)
{
	log_error("%s", err->msg[0] ? err->msg : "unknown error");
	return err_exit_code(err->rc ? err->rc : IKASQ_EINTERNAL);
}

static int
facility_of(const char *name)
{
	static const struct { const char *n; int f; } tab[] = {
		{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON },
		{ "user", LOG_USER }, { "local0", LOG_LOCAL0 },
		{ "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
		{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 },
		{ "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
		{ "local7", LOG_LOCAL7 },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tab); i++)
		if (strcmp(tab[i].n, name) == 0)
			return tab[i].f;
	return LOG_MAIL;
}

int
ctx_config(struct ctx *ctx)
{
	struct strbuf problems = STRBUF_INIT;
	char *p, *nl;

	if (ctx->cfg != NULL)
		return EX_OK;
	sb_init(&problems);
	if (config_load(ctx->config_path, &ctx->cfg, &problems) != IKASQ_OK) {
		for (p = problems.buf; *p != '\0'; p = nl + 1) {
			nl = strchr(p, '\n');
			if (nl == NULL)
				break;
			*nl = '\0';
			log_error("%s", p);
		}
		sb_release(&problems);
		return EX_CONFIG;
	}
	sb_release(&problems);
	if (ctx->log_level == -2)
		log_set_level(log_level_parse(config_str(ctx->cfg, "general",
		    "log_level")));
	if (strcmp(config_str(ctx->cfg, "general", "log"), "syslog") == 0)
		log_use_syslog(facility_of(config_str(ctx->cfg, "general",
		    "syslog_facility")));
	return EX_OK;
}

int
ctx_db(struct ctx *ctx)
{
	struct ikasq_err err;
	int ex;

	if (ctx->db != NULL)
		return EX_OK;
	if ((ex = ctx_config(ctx)) != EX_OK)
		return ex;
	err_clear(&err);
	if (db_connect(ctx->cfg, &ctx->db, &err) != IKASQ_OK)
		return cmd_fail(&err);
	return EX_OK;
}

/* Output that never reached its file is a failure, even for --help. */
static int
finish(int ex)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		log_error("cannot write to standard output");
		if (ex == EX_OK)
			ex = EX_IOERR;
	}
	return ex;
}

int
main(int argc, char **argv)
{
	struct ctx ctx = { NULL, -2, NULL, NULL, NULL };
	const struct command *cmd;
	int i, ex;

	/* a closed pipe is an error to report, not a silent death */
	signal(SIGPIPE, SIG_IGN);
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		} else if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
			if (++i == argc) {
				log_error("option '%s' needs a file", a);
				fputs(main_usage, stderr);
				return EX_USAGE;
			}
			ctx.config_path = argv[i];
		} else if (strncmp(a, "--config=", 9) == 0) {
			ctx.config_path = a + 9;
		} else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
			ctx.log_level = LOG_LVL_DEBUG;
		} else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
			ctx.log_level = ctx.log_level == LOG_LVL_ERROR ?
			    LOG_LVL_QUIET : LOG_LVL_ERROR;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			print_main_help(stdout);
			return finish(EX_OK);
		} else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			printf("ikasq %s\n", PACKAGE_VERSION);
			return finish(EX_OK);
		} else {
			log_error("unknown option '%s'", a);
			fputs(main_usage, stderr);
			return EX_USAGE;
		}
	}
	if (ctx.log_level != -2)
		log_set_level(ctx.log_level);
	if (i == argc) {
		fputs(main_usage, stderr);
		fputs("'ikasq help' lists the commands.\n", stderr);
		return EX_USAGE;
	}
	cmd = find_command(argv[i]);
	if (cmd == NULL) {
		log_error("'%s' is not an ikasq command; see 'ikasq help'",
		    argv[i]);
		fputs(main_usage, stderr);
		return EX_USAGE;
	}
	ctx.cmd = cmd;
	if (argc - i >= 2 && (strcmp(argv[i + 1], "--help") == 0 ||
	    strcmp(argv[i + 1], "-h") == 0))
		return finish(cmd_help(cmd));
	ex = finish(cmd->fn(argc - i, argv + i, &ctx));
	db_close(ctx.db);
	config_free(ctx.cfg);
	return ex;
}
