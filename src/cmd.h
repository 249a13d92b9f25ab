/*
 * cmd.h - what every subcommand shares: the context built by main() and
 * the helpers that turn failures into one line on stderr and an exit code.
 * Only main() and the cmd_* functions exit.
 */
#ifndef IKASQ_CMD_H
#define IKASQ_CMD_H

#include <stdbool.h>

#include "ikasq/err.h"

struct config;
struct db;
struct command;

struct ctx {
	const char *config_path;	/* -c FILE, or NULL */
	int log_level;			/* from -v/-q, or -2 for the config's */
	const struct command *cmd;	/* the subcommand running */
	struct config *cfg;		/* loaded by ctx_config() */
	struct db *db;			/* opened by ctx_db() */
};

struct command {
	const char *name;
	int (*fn)(int argc, char **argv, struct ctx *ctx);
	const char *usage;		/* "ikasq NAME ..." lines, '\n'-joined */
	const char *summary;
};

/* Load the configuration once; on failure print every problem and return
 * the exit code (78), else 0. */
int ctx_config(struct ctx *ctx);
/* Connect to the database once; on failure print one line, return the
 * exit code (75 when unreachable), else 0. */
int ctx_db(struct ctx *ctx);

/* Print "ikasq: message" for err and return its exit code. */
int cmd_fail(const struct ikasq_err *err);
/* A usage error: the message (if any), then the usage; returns 64. */
int cmd_usage_error(const struct ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Print the usage and summary on stdout; returns 0. */
int cmd_help(const struct command *cmd);
/* Report an unknown option seen by getopt_long; returns 64. */
int cmd_bad_option(const struct ctx *ctx, int argc, char **argv);

int cmd_migrate(int argc, char **argv, struct ctx *ctx);
int cmd_enqueue(int argc, char **argv, struct ctx *ctx);
int cmd_stats(int argc, char **argv, struct ctx *ctx);
int cmd_cleanup(int argc, char **argv, struct ctx *ctx);
int cmd_job(int argc, char **argv, struct ctx *ctx);
int cmd_config(int argc, char **argv, struct ctx *ctx);
int cmd_ingest(int argc, char **argv, struct ctx *ctx);
int cmd_extract(int argc, char **argv, struct ctx *ctx);
int cmd_fetch(int argc, char **argv, struct ctx *ctx);
int cmd_work(int argc, char **argv, struct ctx *ctx);
int cmd_reply(int argc, char **argv, struct ctx *ctx);

#endif
