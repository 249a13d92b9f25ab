/* cmd_config.c - ikasq config check */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "ikasq/config.h"
#include "cmd.h"

int
cmd_config(int argc, char **argv, struct ctx *ctx)
{
	struct strbuf out = STRBUF_INIT;
	struct ikasq_err err;
	int ex, rc;

	if (argc < 2)
		return cmd_usage_error(ctx, "needs an action");
	if (strcmp(argv[1], "check") != 0)
		return cmd_usage_error(ctx, "unknown action '%s'", argv[1]);
	if (argc > 2)
		return cmd_usage_error(ctx, "too many arguments");
	if ((ex = ctx_config(ctx)) != EX_OK)
		return ex;
	sb_init(&out);
	err_clear(&err);
	rc = config_dump(ctx->cfg, &out, &err);
	fputs(out.buf, stdout);
	sb_release(&out);
	if (rc != IKASQ_OK)
		return cmd_fail(&err);
	return EX_OK;
}
