/*
 * cmd_ingest.c - ikasq ingest: one message on stdin (an MDA for procmail,
 * fetchmail, Postfix), or a bulk import of an mbox or a Maildir
 *
 * As an MDA, ikasq never bounces a mail for its own reasons: whatever goes
 * wrong (the database is down, the configuration is broken) exits 75 so the
 * MTA keeps the message and tries again.  It is silent on success, as
 * getmail counts any output on stderr as a failed delivery.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "ikasq/config.h"
#include "ikasq/db.h"
#include "ikasq/extract.h"
#include "ikasq/ingest.h"
#include "ikasq/log.h"
#include "ikasq/mailbox.h"
#include "cmd.h"

static void
fill_opts(const struct ctx *ctx, struct ingest_opts *o, const char *source,
	  int priority, bool bulk)
{
	memset(o, 0, sizeof(*o));
	o->source = source;
	o->priority = priority >= 0 ? priority :
	    (int)config_int(ctx->cfg, "ingest", bulk ? "bulk_priority" :
	    "priority");
	o->max_attempts = (int)config_int(ctx->cfg, "queue", "max_attempts");
	o->max_size = (size_t)config_size(ctx->cfg, "ingest", "max_size");
	o->raw_dir = config_str(ctx->cfg, "ingest", "raw_dir");
}

/* MDA mode: every failure but an empty message is "try again later". */
static int
ingest_stdin(struct ctx *ctx, int priority)
{
	struct strbuf in = STRBUF_INIT;
	struct extractor *x = NULL;
	struct ingest_opts o;
	struct ingest_result r;
	struct ikasq_err err;
	int ex;

	sb_init(&in);
	err_clear(&err);
	if (!read_all_fd(STDIN_FILENO, &in)) {
		log_error("cannot read the message on standard input");
		sb_release(&in);
		return EX_TEMPFAIL;
	}
	if (in.len == 0) {
		log_error("empty message on standard input");
		sb_release(&in);
		return EX_DATAERR;
	}
	if (ctx_config(ctx) != EX_OK) {
		log_error("configuration error: the message was not "
		    "delivered; it will be tried again");
		sb_release(&in);
		return EX_TEMPFAIL;
	}
	if (extractor_new(ctx->cfg, &x, &err) != IKASQ_OK ||
	    (ex = ctx_db(ctx)) != EX_OK) {
		if (x == NULL)
			log_error("%s", err.msg);
		sb_release(&in);
		extractor_free(x);
		return EX_TEMPFAIL;
	}
	fill_opts(ctx, &o, "stdin", priority, false);
	if (ingest_one(ctx->db, x, in.buf, in.len, &o, &r, &err) !=
	    IKASQ_OK) {
		log_error("%s", err.msg);
		ex = EX_TEMPFAIL;
	} else {
		log_debug("stored mail %s%s%s%s", r.mail_id,
		    r.duplicate ? " (already stored)" : "",
		    r.job_id[0] ? ", queued job " : "", r.job_id);
		ex = EX_OK;
	}
	sb_release(&in);
	extractor_free(x);
	return ex;
}

static void
progress(long n, double frac, double t0, bool done)
{
	double el = (double)now_ms() / 1000.0 - t0;
	double rate = el > 0 ? (double)n / el : 0;
	double eta = frac > 0.001 ? el / frac - el : 0;

	fprintf(stderr, "\r%ld messages (%.0f%%), %.0f/s, %s %d:%02d   %s", n,
	    frac * 100, rate, done ? "took" : "ETA", (int)(done ? el : eta) /
	    60, (int)(done ? el : eta) % 60, done ? "\n" : "");
	fflush(stderr);
}

static int
ingest_bulk(struct ctx *ctx, const char *mbox, const char *maildir,
	    int priority)
{
	struct extractor *x = NULL;
	struct mailbox *mb = NULL;
	struct ingest_opts o;
	struct ingest_result r;
	struct ikasq_err err;
	const char *raw, *where;
	char *source;
	size_t len;
	long n = 0, fresh = 0, dups = 0, skipped = 0, jobs = 0;
	double t0, last = 0, el;
	bool tty = isatty(STDERR_FILENO) && log_get_level() >= LOG_LVL_INFO;
	int ex, got, rc = IKASQ_OK;

	if ((ex = ctx_config(ctx)) != EX_OK)
		return ex;
	err_clear(&err);
	if (extractor_new(ctx->cfg, &x, &err) != IKASQ_OK)
		return cmd_fail(&err);
	if ((mbox ? mailbox_open_mbox(mbox, &mb, &err) :
	    mailbox_open_maildir(maildir, &mb, &err)) != IKASQ_OK) {
		extractor_free(x);
		return cmd_fail(&err);
	}
	if ((ex = ctx_db(ctx)) != EX_OK) {
		mailbox_close(mb);
		extractor_free(x);
		return ex;
	}
	source = xasprintf("%s:%s", mbox ? "mbox" : "maildir",
	    mbox ? mbox : maildir);
	fill_opts(ctx, &o, source, priority, true);
	t0 = (double)now_ms() / 1000.0;
	while ((got = mailbox_next(mb, &raw, &len, &where, &err)) != 0) {
		if (got < 0 || len == 0) {
			log_warn("skipped %s: %s", where, got < 0 ? err.msg :
			    "empty message");
			skipped++;
			continue;
		}
		n++;
		rc = ingest_one(ctx->db, x, raw, len, &o, &r, &err);
		if (rc == IKASQ_ETEMP || rc == IKASQ_ECONFIG ||
		    rc == IKASQ_EPERM) {
			/* the database is gone or unusable: stop here; a new
			 * run skips what was stored already */
			if (tty)
				fputc('\n', stderr);
			log_error("%s: %s", where, err.msg);
			break;
		}
		if (rc != IKASQ_OK) {
			log_warn("skipped %s: %s", where, err.msg);
			skipped++;
			n--;
			rc = IKASQ_OK;
			continue;
		}
		if (r.duplicate)
			dups++;
		else
			fresh++;
		jobs += r.job_id[0] != '\0';
		if (tty && (double)now_ms() / 1000.0 - last > 0.25) {
			last = (double)now_ms() / 1000.0;
			progress(n, mailbox_progress(mb), t0, false);
		}
	}
	el = (double)now_ms() / 1000.0 - t0;
	if (tty && rc == IKASQ_OK)
		progress(n, 1, t0, true);
	printf("%s %s: %ld message%s, %ld new, %ld already stored, %ld "
	    "skipped; %ld job%s queued at priority %d (%.1f s, %.0f/s)\n",
	    rc == IKASQ_OK ? "imported" : "stopped importing",
	    mbox ? mbox : maildir, n, n == 1 ? "" : "s", fresh, dups,
	    skipped, jobs, jobs == 1 ? "" : "s", o.priority, el,
	    el > 0 ? (double)n / el : 0);
	free(source);
	mailbox_close(mb);
	extractor_free(x);
	return rc == IKASQ_OK ? EX_OK : err_exit_code(rc);
}

int
cmd_ingest(int argc, char **argv, struct ctx *ctx)
{
	static const struct option opts[] = {
		{ "priority", required_argument, NULL, 'p' },
		{ "mbox", required_argument, NULL, 'm' },
		{ "maildir", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	const char *mbox = NULL, *maildir = NULL;
	struct ikasq_err err;
	long prio = -1;
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (!parse_int(optarg, 0, 10, &prio)) {
				err_set(&err, IKASQ_EDATA, "priority '%s' is "
				    "not an integer in 0..10", optarg);
				return cmd_fail(&err);
			}
			break;
		case 'm': mbox = optarg; break;
		case 'd': maildir = optarg; break;
		default: return cmd_bad_option(ctx, argc, argv);
		}
	}
	if (optind != argc)
		return cmd_usage_error(ctx, "unexpected argument '%s'",
		    argv[optind]);
	if (mbox && maildir)
		return cmd_usage_error(ctx, "--mbox and --maildir exclude each "
		    "other");
	if (mbox || maildir)
		return ingest_bulk(ctx, mbox, maildir, (int)prio);
	return ingest_stdin(ctx, (int)prio);
}
