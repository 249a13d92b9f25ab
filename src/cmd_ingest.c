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
	if (ingest_one(ctx->db, x, &(struct ingest_msg){ in.buf, in.len,
	    NULL, 0 }, &o, &r, &err) != IKASQ_OK) {
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

/*
 * A bulk import stores its messages in batches, each one transaction sent
 * as a pipeline (as `ikasq fetch` does): the server stores a message while
 * the next is parsed.  A batch keeps copies of its messages, so that when
 * one of them is refused the batch is stored again one message at a time
 * and only that one is skipped.
 */
#define BULK_BATCH	200
#define BULK_BYTES	(16u * 1024 * 1024)

struct bulk {
	const struct extractor *x;
	const struct ingest_opts *o;
	struct db *db;
	struct {
		char *raw, *where;
		size_t len;
	} m[BULK_BATCH];
	int n;
	size_t bytes;
	long fresh, dups, skipped, jobs;
};

static void
bulk_count(struct bulk *b, const struct ingest_result *r)
{
	if (r->duplicate)
		b->dups++;
	else
		b->fresh++;
	b->jobs += r->job_id[0] != '\0';
}

static struct ingest_msg
bulk_msg(const struct bulk *b, int i)
{
	struct ingest_msg im = { b->m[i].raw, b->m[i].len, NULL, 0 };

	return im;
}

/* Store the batch in one pipelined transaction. */
static int
bulk_pipeline(struct bulk *b, struct ikasq_err *err)
{
	struct ingest_result r[BULK_BATCH];
	int i, rc, at;

	if ((rc = ingest_batch_begin(b->db, err)) != IKASQ_OK)
		return rc;
	for (i = 0; i < b->n && rc == IKASQ_OK; i++) {
		struct ingest_msg im = bulk_msg(b, i);

		rc = ingest_batch_add(b->db, b->x, b->o, &im, err);
		if (rc != IKASQ_OK)
			err_prefix(err, "%s", b->m[i].where);
	}
	rc = ingest_batch_end(b->db, rc, (size_t)b->n, 0, r, &at, err);
	if (at >= 0)
		err_prefix(err, "%s", b->m[at].where);
	for (i = 0; i < b->n && rc == IKASQ_OK; i++)
		bulk_count(b, &r[i]);
	return rc;
}

static int
bulk_flush(struct bulk *b, struct ikasq_err *err)
{
	struct ingest_result r;
	int i, rc;

	if (b->n == 0)
		return IKASQ_OK;
	rc = bulk_pipeline(b, err);
	if (rc != IKASQ_OK && !err_systemic(rc)) {
		/* one message was refused: find it, store the others */
		log_debug("%s; storing that batch one message at a time",
		    err->msg);
		for (i = 0, rc = IKASQ_OK; i < b->n; i++) {
			struct ingest_msg im = bulk_msg(b, i);

			rc = ingest_one(b->db, b->x, &im, b->o, &r, err);
			if (err_systemic(rc)) {
				err_prefix(err, "%s", b->m[i].where);
				break;
			}
			if (rc != IKASQ_OK) {
				log_warn("skipped %s: %s", b->m[i].where,
				    err->msg);
				b->skipped++;
				rc = IKASQ_OK;
				continue;
			}
			bulk_count(b, &r);
		}
	}
	for (i = 0; i < b->n; i++) {
		free(b->m[i].raw);
		free(b->m[i].where);
	}
	b->n = 0;
	b->bytes = 0;
	return rc;
}

static int
ingest_bulk(struct ctx *ctx, const char *mbox, const char *maildir,
	    int priority)
{
	struct extractor *x = NULL;
	struct mailbox *mb = NULL;
	struct ingest_opts o;
	struct ikasq_err err;
	struct bulk *b;
	const char *raw, *where;
	char *source;
	size_t len;
	long n = 0;
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
	b = xcalloc(1, sizeof(*b));
	b->x = x;
	b->o = &o;
	b->db = ctx->db;
	t0 = (double)now_ms() / 1000.0;
	for (;;) {
		got = mailbox_next(mb, &raw, &len, &where, &err);
		if (got > 0 && len > 0) {
			b->m[b->n].raw = xmalloc(len);
			memcpy(b->m[b->n].raw, raw, len);
			b->m[b->n].len = len;
			b->m[b->n].where = xstrdup(where);
			b->n++;
			b->bytes += len;
			n++;
		} else if (got != 0) {
			log_warn("skipped %s: %s", where, got < 0 ? err.msg :
			    "empty message");
			b->skipped++;
			continue;
		}
		if (got == 0 || b->n == BULK_BATCH || b->bytes >= BULK_BYTES)
			rc = bulk_flush(b, &err);
		if (rc != IKASQ_OK) {
			/* the database is gone or unusable: stop here; a new
			 * run skips what was stored already */
			if (tty)
				fputc('\n', stderr);
			log_error("%s", err.msg);
			break;
		}
		if (got == 0)
			break;
		if (tty && (double)now_ms() / 1000.0 - last > 0.25) {
			last = (double)now_ms() / 1000.0;
			progress(n, mailbox_progress(mb), t0, false);
		}
	}
	el = (double)now_ms() / 1000.0 - t0;
	if (tty && rc == IKASQ_OK)
		progress(n, 1, t0, true);
	/* what was read but neither stored nor skipped is in the batch that
	 * could not be stored: not counted */
	n = b->fresh + b->dups;
	printf("%s %s: %ld message%s, %ld new, %ld already stored, %ld "
	    "skipped; %ld job%s queued at priority %d (%.1f s, %.0f/s)\n",
	    rc == IKASQ_OK ? "imported" : "stopped importing",
	    mbox ? mbox : maildir, n, n == 1 ? "" : "s", b->fresh, b->dups,
	    b->skipped, b->jobs, b->jobs == 1 ? "" : "s", o.priority, el,
	    el > 0 ? (double)n / el : 0);
	for (got = 0; got < b->n; got++) {
		free(b->m[got].raw);
		free(b->m[got].where);
	}
	free(b);
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
