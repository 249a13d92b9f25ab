/*
 * worker.c - claim jobs, run their handlers, apply the outcomes; once for
 * cron or as a daemon woken by NOTIFY
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ikasq/config.h"
#include "ikasq/db.h"
#include "ikasq/extract.h"
#include "ikasq/ikas.h"
#include "ikasq/log.h"
#include "ikasq/worker.h"

volatile sig_atomic_t worker_stop;

static void pend_clear(struct worker *w, bool say);

void
worker_init(struct worker *w, const struct config *cfg, struct db *db)
{
	memset(w, 0, sizeof(*w));
	w->cfg = cfg;
	w->db = db;
	w->id = worker_identity();
	w->lease_s = config_duration(cfg, "queue", "lease");
	w->backoff_cap_s = config_duration(cfg, "queue", "backoff_max");
	w->backoff_unit_s = config_duration(cfg, "queue", "backoff_unit");
	queue_set_backoff_unit(w->backoff_unit_s);
	queue_set_rescue(1000, (int)config_int(cfg, "queue", "max_rescues"));
}

void
worker_release(struct worker *w)
{
	int i;

	ikas_free(w->ikas);
	extractor_free(w->x);
	pend_clear(w, false);
	for (i = 0; i < w->nerrors; i++)
		free(w->errors[i]);
	free(w->errors);
	memset(w, 0, sizeof(*w));
}

static char *
human_delay(int64_t s)
{
	if (s >= 120 && s % 60 == 0)
		return xasprintf("%lld min", (long long)(s / 60));
	return xasprintf("%lld s", (long long)s);
}

/* Say it once the transaction holding it has committed. */
static void
pend(struct worker *w, int level, long *counter, const struct job *j,
     const char *error, const char *fmt, ...)
{
	struct pending *p;
	va_list ap;

	w->pend = xrealloc(w->pend, (size_t)(w->npend + 1) * sizeof(*w->pend));
	p = &w->pend[w->npend++];
	p->level = level;
	p->counter = counter;
	p->error = error ? xasprintf("job %s: %s", j->id, error) : NULL;
	va_start(ap, fmt);
	p->line = xvasprintf(fmt, ap);
	va_end(ap);
}

static void
pend_clear(struct worker *w, bool say)
{
	int i;

	for (i = 0; i < w->npend; i++) {
		struct pending *p = &w->pend[i];

		if (say) {
			log_msg(p->level, "%s", p->line);
			if (p->counter != NULL)
				(*p->counter)++;
			if (p->error != NULL && w->nerrors < 1000) {
				w->errors = xrealloc(w->errors,
				    (size_t)(w->nerrors + 1) * sizeof(char *));
				w->errors[w->nerrors++] = p->error;
				p->error = NULL;
			}
		}
		free(p->line);
		free(p->error);
	}
	free(w->pend);
	w->pend = NULL;
	w->npend = 0;
}

int
worker_commit(struct worker *w, struct ikasq_err *err)
{
	int rc = db_commit(w->db, err);

	if (rc != IKASQ_OK)
		db_rollback(w->db);
	pend_clear(w, rc == IKASQ_OK);
	return rc;
}

void
worker_rollback(struct worker *w)
{
	db_rollback(w->db);
	pend_clear(w, false);
}

int
worker_apply(struct worker *w, struct job *jobs, int n,
	     const struct outcome *out, struct ikasq_err *err)
{
	int i, rc, state;
	long done;
	char *d;

	for (i = 0; i < n; i++) {
		struct job *j = &jobs[i];
		const struct outcome *o = &out[i];
		const char *id = j->id;

		switch (o->kind) {
		case OUT_DONE:
			rc = queue_complete(w->db, &id, 1, w->id,
			    o->msg[0] ? o->msg : NULL, &done, err);
			if (rc != IKASQ_OK)
				return rc;
			if (done == 0)
				pend(w, LOG_LVL_WARN, NULL, j, NULL, "job %s was "
				    "taken over by another worker (its lease "
				    "expired); not marked completed here",
				    j->id);
			else
				pend(w, LOG_LVL_INFO, &w->processed, j, NULL,
				    "job %s completed%s%s", j->id,
				    o->msg[0] ? ": " : "", o->msg);
			break;
		case OUT_RETRY_AFTER:
			rc = queue_fail(w->db, j, w->id, QF_RETRY_AFTER, o->msg,
			    o->delay_s, w->backoff_cap_s, &state, err);
			if (rc != IKASQ_OK)
				return rc;
			d = human_delay(o->delay_s);
			pend(w, LOG_LVL_WARN, &w->retried, j, o->msg, "job %s "
			    "rescheduled in %s: %s (the attempt does not "
			    "count)", j->id, d, o->msg);
			free(d);
			break;
		case OUT_RETRY:
		case OUT_FAIL:
			rc = queue_fail(w->db, j, w->id, o->kind == OUT_RETRY ?
			    QF_RETRY : QF_PERMANENT, o->msg, 0,
			    w->backoff_cap_s, &state, err);
			if (rc != IKASQ_OK)
				return rc;
			if (state == QS_PENDING) {
				d = human_delay(backoff_seconds(j->attempts,
				    w->backoff_unit_s, w->backoff_cap_s));
				pend(w, LOG_LVL_WARN, &w->retried, j, o->msg,
				    "job %s failed (attempt %d/%d): %s; retry "
				    "in %s", j->id, j->attempts,
				    j->max_attempts, o->msg, d);
				free(d);
			} else if (state == QS_FAILED) {
				pend(w, LOG_LVL_ERROR, &w->failed, j, o->msg,
				    "job %s failed%s (attempt %d/%d): %s",
				    j->id, o->kind == OUT_FAIL ?
				    " for good, not retried" : "",
				    j->attempts, j->max_attempts, o->msg);
			}
			break;
		}
	}
	return IKASQ_OK;
}

void
worker_keep_leases(struct worker *w, struct job *jobs, int n)
{
	const char **ids;
	struct ikasq_err e;
	int i;

	/* renew at half the lease, long before anybody may take them */
	if (now_ms() - w->claim_ms < w->lease_s * 1000 / 2)
		return;
	ids = xcalloc((size_t)n, sizeof(*ids));
	for (i = 0; i < n; i++)
		ids[i] = jobs[i].id;
	if (queue_extend(w->db, ids, n, w->id, w->lease_s, &e) == IKASQ_OK)
		w->claim_ms = now_ms();
	free(ids);
}

static const char **
handled_types(void)
{
	static const char *types[16];
	int i;

	for (i = 0; i < nhandlers && i < 16; i++)
		types[i] = handlers[i].type;
	return types;
}

/* Run the claimed jobs, each type's at once through its handler. */
static int
run_claimed(struct worker *w, struct job_list *l, struct ikasq_err *err)
{
	struct outcome *out;
	struct job *sub;
	int h, i, k, rc = IKASQ_OK;

	for (i = 0; i < l->n; i++)
		log_info("job %s started: %s, priority %d (attempt %d/%d)",
		    l->v[i].id, l->v[i].type, l->v[i].priority,
		    l->v[i].attempts, l->v[i].max_attempts);
	sub = xcalloc((size_t)l->n, sizeof(*sub));
	out = xcalloc((size_t)l->n, sizeof(*out));
	for (h = 0; h < nhandlers && rc == IKASQ_OK; h++) {
		for (i = k = 0; i < l->n; i++)
			if (strcmp(l->v[i].type, handlers[h].type) == 0)
				sub[k++] = l->v[i];
		if (k == 0)
			continue;
		memset(out, 0, (size_t)k * sizeof(*out));
		rc = handlers[h].run(w, sub, k, out, err);
	}
	free(sub);
	free(out);
	return rc;
}

int
worker_run_once(struct worker *w, long max_jobs, struct ikasq_err *err)
{
	long taken = 0;
	int batch = (int)config_int(w->cfg, "worker", "claim_batch");
	struct job_list l;
	int rc = IKASQ_OK;

	while (!worker_stop && (max_jobs == 0 || taken < max_jobs)) {
		int limit = max_jobs == 0 || max_jobs - taken > batch ? batch :
		    (int)(max_jobs - taken);

		rc = queue_claim(w->db, handled_types(), nhandlers, limit,
		    w->lease_s, w->id, &l, err);
		if (rc != IKASQ_OK)
			break;
		if (l.n == 0) {
			job_list_release(&l);
			break;
		}
		w->claim_ms = now_ms();
		taken += l.n;
		rc = run_claimed(w, &l, err);
		job_list_release(&l);
		if (rc != IKASQ_OK)
			break;
	}
	return rc;
}

/* Milliseconds until the next pending job of ours is due (capped). */
static int
next_due_ms(struct worker *w, int cap_ms)
{
	struct strbuf arr = STRBUF_INIT;
	struct db_res *res;
	struct ikasq_err e;
	const char *p[1];
	int ms = cap_ms;

	sb_init(&arr);
	db_array_literal(&arr, handled_types(), nhandlers);
	p[0] = arr.buf;
	if (db_exec(w->db, "SELECT ceil(extract(epoch FROM min(scheduled_at)"
	    " - now()) * 1000) FROM job_queue WHERE status = 'pending'"
	    " AND job_type = ANY ($1::text[])", 1, p, &res, &e) == IKASQ_OK) {
		if (!db_isnull(res, 0, 0)) {
			double v = atof(db_get(res, 0, 0));

			ms = v < 20 ? 20 : v > cap_ms ? cap_ms : (int)v;
		}
		db_res_free(res);
	}
	sb_release(&arr);
	return ms;
}

int
worker_follow(struct worker *w, struct ikasq_err *err)
{
	int64_t backoff = 1000;
	int check_ms = (int)config_duration(w->cfg, "worker",
	    "check_interval") * 1000;
	bool listening = false, got;
	int rc;

	log_info("worker %s waiting for jobs", w->id);
	while (!worker_stop) {
		if (!listening) {
			rc = db_listen(w->db, QUEUE_NOTIFY_CHANNEL, err);
			if (rc != IKASQ_OK)
				goto broken;
			listening = true;
		}
		rc = worker_run_once(w, 0, err);
		if (rc == IKASQ_ECONFIG || rc == IKASQ_EINTERNAL)
			return rc;
		if (rc != IKASQ_OK)
			goto broken;
		backoff = 1000;
		/* a NOTIFY wakes us at once; else the next retry that falls
		 * due, or a look every check_interval for expired leases */
		rc = db_wait_notify(w->db, next_due_ms(w, check_ms), &got,
		    NULL, NULL, err);
		while (rc == IKASQ_OK && got)	/* one claim for them all */
			rc = db_wait_notify(w->db, 0, &got, NULL, NULL, err);
		if (rc != IKASQ_OK)
			goto broken;
		continue;
broken:
		if (worker_stop)
			break;
		log_warn("%s; trying again in %lld s", err->msg,
		    (long long)backoff / 1000);
		listening = false;
		usleep((useconds_t)backoff * 1000);
		backoff = backoff * 2 > 60000 ? 60000 : backoff * 2;
		if (db_reconnect(w->db, err) != IKASQ_OK)
			continue;
	}
	log_info("worker finished: %ld processed, %ld failed", w->processed,
	    w->failed + w->retried);
	return IKASQ_OK;
}
