/*
 * jobs.c - what each job type does.  Adding a type is one function and one
 * row in handlers[].
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ikasq/cache.h"
#include "ikasq/config.h"
#include "ikasq/db.h"
#include "ikasq/extract.h"
#include "ikasq/ikas.h"
#include "ikasq/ingest.h"
#include "ikasq/log.h"
#include "ikasq/queue.h"
#include "ikasq/worker.h"

static int handle_fetch(struct worker *, struct job *, int, struct outcome *,
			struct ikasq_err *);
static int handle_process_mail(struct worker *, struct job *, int,
			       struct outcome *, struct ikasq_err *);
static int handle_cleanup(struct worker *, struct job *, int,
			  struct outcome *, struct ikasq_err *);

const struct handler handlers[] = {
	{ "fetch_ikas_order", handle_fetch },
	{ "process_mail", handle_process_mail },
	{ "cleanup", handle_cleanup },
};
const int nhandlers = (int)(sizeof(handlers) / sizeof(handlers[0]));

static void
outcome(struct outcome *o, int kind, int64_t delay, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
outcome(struct outcome *o, int kind, int64_t delay, const char *fmt, ...)
{
	va_list ap;

	o->kind = kind;
	o->delay_s = delay;
	va_start(ap, fmt);
	vsnprintf(o->msg, sizeof(o->msg), fmt, ap);
	va_end(ap);
}

/* Run apply + commit around the handler's own writes. */
static int
finish(struct worker *w, struct job *jobs, int n, struct outcome *out,
       struct ikasq_err *err)
{
	int rc;

	if ((rc = worker_apply(w, jobs, n, out, err)) != IKASQ_OK) {
		worker_rollback(w);
		return rc;
	}
	return worker_commit(w, err);
}

/* --- fetch_ikas_order -------------------------------------------------- */

/* What one job asks for. */
struct ask {
	char *mail_id;		/* NULL: a job without a mail */
	char **numbers;
	int n;
	bool bad;		/* the payload is unusable */
};

static void
ask_add(struct ask *a, const char *num)
{
	int i;

	if (num == NULL || *num == '\0' || strlen(num) > 64)
		return;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->numbers[i], num) == 0)
			return;
	a->numbers = xrealloc(a->numbers, (size_t)(a->n + 1) * sizeof(char *));
	a->numbers[a->n++] = xstrdup(num);
}

/* The order numbers of a stored mail (payloads of the seed app carry only
 * the mail id, or its subject and body). */
static int
mail_numbers(struct worker *w, struct ask *a, struct ikasq_err *err)
{
	struct db_res *res;
	const char *p[1] = { a->mail_id };
	int i, rc;

	if (!is_uuid(a->mail_id))
		return IKASQ_OK;
	rc = db_exec(w->db, "SELECT unnest(order_numbers) FROM mails"
	    " WHERE id = $1::uuid", 1, p, &res, err);
	if (rc != IKASQ_OK)
		return rc;
	for (i = 0; i < db_ntuples(res); i++)
		ask_add(a, db_get(res, i, 0));
	db_res_free(res);
	return IKASQ_OK;
}

static int
parse_ask(struct worker *w, const struct job *j, struct ask *a,
	  struct ikasq_err *err)
{
	json_t *p = json_loads(j->payload, 0, NULL), *v, *nums;
	size_t i;
	int rc = IKASQ_OK;

	memset(a, 0, sizeof(*a));
	if (!json_is_object(p)) {
		a->bad = true;
		json_decref(p);
		return IKASQ_OK;
	}
	v = json_object_get(p, "mail_id");
	if (!json_is_string(v))
		v = json_object_get(p, "mailId");
	if (json_is_string(v))
		a->mail_id = xstrdup(json_string_value(v));
	nums = json_object_get(p, "order_numbers");
	for (i = 0; i < json_array_size(nums); i++)
		ask_add(a, json_string_value(json_array_get(nums, i)));
	if (json_is_string(json_object_get(p, "order_number")))
		ask_add(a, json_string_value(json_object_get(p,
		    "order_number")));
	if (a->n == 0 && a->mail_id != NULL)
		rc = mail_numbers(w, a, err);
	if (rc == IKASQ_OK && a->n == 0 && (json_is_string(json_object_get(p,
	    "subject")) || json_is_string(json_object_get(p, "bodyText")))) {
		struct order_match *m;
		int k, c;

		if (w->x == NULL && (rc = extractor_new(w->cfg, &w->x, err)) !=
		    IKASQ_OK) {
			json_decref(p);
			return rc;
		}
		extract_orders(w->x, json_string_value(json_object_get(p,
		    "subject")), json_string_value(json_object_get(p,
		    "bodyText")), &m, &c);
		for (k = 0; k < c; k++)
			ask_add(a, m[k].order);
		order_matches_free(m, c);
	}
	json_decref(p);
	return rc;
}

static void
ask_release(struct ask *a)
{
	int i;

	for (i = 0; i < a->n; i++)
		free(a->numbers[i]);
	free(a->numbers);
	free(a->mail_id);
}

/* The answer for one order number. */
struct answer {
	char *number;
	char *json;		/* NULL: not found (or failed) */
	bool cached;		/* fresh in the cache already */
	bool fetched;		/* asked İkas */
	int rc;			/* IKASQ_OK, or why the lookup failed */
	int64_t retry_after;
	char msg[400];
};

static struct answer *
answer_find(struct answer *v, int n, const char *num)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i].number, num) == 0)
			return &v[i];
	return NULL;
}

static char *
join(char **v, int n)
{
	struct strbuf sb = STRBUF_INIT;
	int i;

	sb_init(&sb);
	for (i = 0; i < n; i++)
		sb_addf(&sb, "%s%s", i ? ", " : "", v[i]);
	return sb_detach(&sb);
}

/*
 * A session lock per order number (and schema) says "a worker is asking
 * İkas for it": held from the call until its cache row is committed, so
 * that workers running at once ask for each order only once.
 */
static int
order_locks(struct worker *w, const char *sql, const char *const *numbers,
	    int n, struct db_res **res, struct ikasq_err *err)
{
	struct strbuf arr = STRBUF_INIT;
	char *prefix = xasprintf("ikasq.order:%s:", db_schema(w->db));
	const char *p[2];
	int rc;

	if (res != NULL)
		*res = NULL;
	if (n == 0) {
		free(prefix);
		return IKASQ_OK;
	}
	sb_init(&arr);
	db_array_literal(&arr, numbers, n);
	p[0] = arr.buf;
	p[1] = prefix;
	rc = db_exec(w->db, sql, 2, p, res, err);
	sb_release(&arr);
	free(prefix);
	return rc;
}

/* Split todo into the numbers we now ask for and those another has. */
static int
claim_orders(struct worker *w, const char **todo, int ntodo,
	     const char **mine, int *nmine, const char **theirs, int *ntheirs,
	     struct ikasq_err *err)
{
	struct db_res *res;
	int i, rc;

	*nmine = *ntheirs = 0;
	rc = order_locks(w, "SELECT pg_try_advisory_lock(hashtextextended("
	    "$2 || n, 0)) FROM unnest($1::text[]) WITH ORDINALITY AS u(n, i)"
	    " ORDER BY i", todo, ntodo, &res, err);
	if (rc != IKASQ_OK || res == NULL)
		return rc;
	for (i = 0; i < ntodo && i < db_ntuples(res); i++) {
		if (strcmp(db_get(res, i, 0), "t") == 0)
			mine[(*nmine)++] = todo[i];
		else
			theirs[(*ntheirs)++] = todo[i];
	}
	db_res_free(res);
	return IKASQ_OK;
}

static void
release_orders(struct worker *w, const char *const *numbers, int n)
{
	struct ikasq_err e;

	order_locks(w, "SELECT pg_advisory_unlock(hashtextextended($2 || n,"
	    " 0)) FROM unnest($1::text[]) AS n", numbers, n, NULL, &e);
}

/* A fresh cache row for a, if there is one now. */
static int
from_cache(struct worker *w, struct answer *a, struct ikasq_err *err)
{
	struct cache_entry e;
	bool hit;
	int rc;

	if (a->cached)
		return IKASQ_OK;
	if ((rc = cache_get_order(w->db, a->number, &e, &hit, err)) != IKASQ_OK)
		return rc;
	if (hit) {
		a->cached = true;
		a->rc = IKASQ_OK;
		free(a->json);
		a->json = e.order_data ? xstrdup(e.order_data) : NULL;
		log_info("order %s %s (cached)", a->number, e.found ? "found" :
		    "not found");
		cache_entry_release(&e);
	}
	return IKASQ_OK;
}

/*
 * Ask İkas for those of numbers not cached yet, batch_size per listOrder
 * call; each call's answers are cached (committed) at once, and with
 * locked the numbers' locks are released then.
 */
static int
lookup(struct worker *w, struct job *jobs, int n, struct answer *ans,
       int nans, const char **numbers, int count, bool locked,
       struct ikasq_err *err)
{
	int64_t ttl = config_duration(w->cfg, "cache", "ttl");
	int64_t nttl = config_duration(w->cfg, "cache", "negative_ttl");
	const char **todo = xcalloc((size_t)count + 1, sizeof(*todo));
	int batch = ikas_batch_size(w->ikas), i, k, ntodo = 0, rc = IKASQ_OK;

	for (i = 0; i < count; i++)
		if (!answer_find(ans, nans, numbers[i])->cached)
			todo[ntodo++] = numbers[i];
		else if (locked)
			release_orders(w, &numbers[i], 1);
	for (i = 0; i < ntodo; i += batch) {
		int cnt = ntodo - i < batch ? ntodo - i : batch;
		struct ikas_order *got = NULL;
		struct ikasq_err e;
		int64_t ra = -1;
		int r;

		worker_keep_leases(w, jobs, n);
		err_clear(&e);
		r = ikas_lookup(w->ikas, w->db, todo + i, cnt, &got, &ra, &e);
		rc = db_begin(w->db, err);
		for (k = 0; rc == IKASQ_OK && k < cnt; k++) {
			struct answer *a = answer_find(ans, nans, todo[i + k]);

			a->fetched = true;
			a->rc = r;
			a->retry_after = ra;
			if (r != IKASQ_OK) {
				snprintf(a->msg, sizeof(a->msg), "%.399s",
				    e.msg);
				continue;
			}
			a->json = got[k].json;
			got[k].json = NULL;
			log_info("order %s %s", a->number, a->json ?
			    "found at İkas" : "not found at İkas");
			rc = cache_put_order(w->db, a->number, a->json,
			    a->json ? ttl : nttl, err);
			if (rc == IKASQ_OK)
				log_info("cached order %s%s", a->number,
				    a->json ? "" : " as not found");
		}
		ikas_orders_free(got, r == IKASQ_OK ? cnt : 0);
		if (rc == IKASQ_OK)
			rc = db_commit(w->db, err);
		if (rc != IKASQ_OK)
			db_rollback(w->db);
		if (locked)
			release_orders(w, todo + i, cnt);
		if (rc == IKASQ_OK && r == IKASQ_ETEMP && strncmp(e.msg,
		    "lost connection to database", 27) == 0)
			rc = err_set(err, IKASQ_ETEMP, "%s", e.msg);
		if (rc != IKASQ_OK) {
			if (locked && i + cnt < ntodo)
				release_orders(w, todo + i + cnt,
				    ntodo - i - cnt);
			break;
		}
	}
	free(todo);
	return rc;
}

static int
handle_fetch(struct worker *w, struct job *jobs, int n, struct outcome *out,
	     struct ikasq_err *err)
{
	struct ask *asks = xcalloc((size_t)n, sizeof(*asks));
	struct answer *ans = NULL;
	const char **todo = NULL, **mine = NULL, **theirs = NULL;
	int nans = 0, ntodo = 0, nmine = 0, ntheirs = 0, i, k, rc = IKASQ_OK;
	int64_t ttl = config_duration(w->cfg, "cache", "ttl");

	if (w->ikas == NULL && (rc = ikas_new(w->cfg, &w->ikas, err)) !=
	    IKASQ_OK)
		goto out;
	/* what the jobs ask for, each number once */
	for (i = 0; i < n; i++) {
		if ((rc = parse_ask(w, &jobs[i], &asks[i], err)) != IKASQ_OK)
			goto out;
		if (asks[i].n > 0) {
			char *s = join(asks[i].numbers, asks[i].n);

			log_info("job %s: order number%s %s%s%s", jobs[i].id,
			    asks[i].n > 1 ? "s" : "", s,
			    asks[i].mail_id ? " for mail " : "",
			    asks[i].mail_id ? asks[i].mail_id : "");
			free(s);
		}
		for (k = 0; k < asks[i].n; k++) {
			if (answer_find(ans, nans, asks[i].numbers[k]))
				continue;
			ans = xrealloc(ans, (size_t)(nans + 1) * sizeof(*ans));
			memset(&ans[nans], 0, sizeof(*ans));
			ans[nans].number = asks[i].numbers[k];
			nans++;
		}
	}
	/* fresh in the cache: another mail asked for it a moment ago */
	todo = xcalloc((size_t)nans + 1, sizeof(*todo));
	for (i = 0; i < nans; i++) {
		if ((rc = from_cache(w, &ans[i], err)) != IKASQ_OK)
			goto out;
		if (!ans[i].cached)
			todo[ntodo++] = ans[i].number;
	}
	/* the rest from İkas, unless another worker is asking right now */
	mine = xcalloc((size_t)ntodo + 1, sizeof(*mine));
	theirs = xcalloc((size_t)ntodo + 1, sizeof(*theirs));
	if ((rc = claim_orders(w, todo, ntodo, mine, &nmine, theirs, &ntheirs,
	    err)) != IKASQ_OK)
		goto out;
	for (i = 0; i < nmine; i++) {
		/* cached between our look and our lock? */
		struct answer *a = answer_find(ans, nans, mine[i]);

		if ((rc = from_cache(w, a, err)) != IKASQ_OK)
			goto out;
	}
	if ((rc = lookup(w, jobs, n, ans, nans, mine, nmine, true, err)) !=
	    IKASQ_OK)
		goto out;
	if (ntheirs > 0) {
		/* wait for the other workers' answers, then read them */
		if ((rc = order_locks(w, "SELECT pg_advisory_lock(k), "
		    "pg_advisory_unlock(k) FROM (SELECT hashtextextended($2 || "
		    "n, 0) AS k FROM unnest($1::text[]) AS n) x", theirs,
		    ntheirs, NULL, err)) != IKASQ_OK)
			goto out;
		for (i = 0, k = 0; i < ntheirs; i++) {
			struct answer *a = answer_find(ans, nans, theirs[i]);

			if ((rc = from_cache(w, a, err)) != IKASQ_OK)
				goto out;
			if (!a->cached)		/* its lookup failed */
				theirs[k++] = theirs[i];
		}
		if ((rc = lookup(w, jobs, n, ans, nans, theirs, k, false,
		    err)) != IKASQ_OK)
			goto out;
	}
	/* one transaction: the mails' cache rows and every job's outcome */
	if ((rc = db_begin(w->db, err)) != IKASQ_OK)
		goto out;
	for (i = 0; i < n; i++) {
		struct ask *a = &asks[i];
		struct answer *worst = NULL, *first_found = NULL;
		struct strbuf found = STRBUF_INIT, missing = STRBUF_INIT;

		if (a->bad) {
			outcome(&out[i], OUT_FAIL, 0, "the payload is not a JSON "
			    "object");
			continue;
		}
		if (a->n == 0) {
			outcome(&out[i], OUT_DONE, 0, "no order numbers in the "
			    "job or its mail");
			continue;
		}
		sb_init(&found);
		sb_init(&missing);
		for (k = 0; k < a->n; k++) {
			struct answer *x = answer_find(ans, nans, a->numbers[k]);

			if (x->rc != IKASQ_OK) {
				/* the least hopeful error decides */
				if (worst == NULL || x->rc == IKASQ_EPERM ||
				    (x->rc == IKASQ_EDATA &&
				    worst->rc != IKASQ_EPERM))
					worst = x;
				continue;
			}
			if (x->json != NULL && first_found == NULL)
				first_found = x;
			sb_addf(x->json ? &found : &missing, "%s%s",
			    (x->json ? found.len : missing.len) ? ", " : "",
			    x->number);
		}
		if (worst != NULL) {
			int kind = worst->rc == IKASQ_ERATELIMIT ?
			    OUT_RETRY_AFTER : worst->rc == IKASQ_ETEMP ?
			    OUT_RETRY : OUT_FAIL;
			int64_t delay = worst->retry_after >= 0 ?
			    worst->retry_after : backoff_seconds(
			    jobs[i].attempts - 1, w->backoff_unit_s,
			    w->backoff_cap_s);

			if (delay > w->backoff_cap_s)
				delay = w->backoff_cap_s;

			outcome(&out[i], kind, delay, "%s", worst->msg);
		} else {
			if (first_found != NULL && a->mail_id != NULL &&
			    is_uuid(a->mail_id)) {
				rc = cache_put_mail(w->db, a->mail_id,
				    first_found->number, first_found->json,
				    ttl, err);
				if (rc != IKASQ_OK) {
					sb_release(&found);
					sb_release(&missing);
					db_rollback(w->db);
					goto out;
				}
				log_info("cached order %s for mail %s",
				    first_found->number, a->mail_id);
			}
			outcome(&out[i], OUT_DONE, 0, "%s%s%s%s%s",
			    found.len ? "found: " : "", found.buf,
			    found.len && missing.len ? "; " : "",
			    missing.len ? "not found at İkas: " : "",
			    missing.buf);
		}
		sb_release(&found);
		sb_release(&missing);
	}
	rc = finish(w, jobs, n, out, err);
out:
	for (i = 0; i < nans; i++)
		free(ans[i].json);
	free(ans);
	free(todo);
	free(mine);
	free(theirs);
	for (i = 0; i < n; i++)
		ask_release(&asks[i]);
	free(asks);
	return rc;
}

/* --- process_mail: parse a stored mail again (after new patterns) ------ */

static int
handle_process_mail(struct worker *w, struct job *jobs, int n,
		    struct outcome *out, struct ikasq_err *err)
{
	int i, rc;

	if (w->x == NULL && (rc = extractor_new(w->cfg, &w->x, err)) !=
	    IKASQ_OK)
		return rc;
	for (i = 0; i < n; i++) {
		json_t *p = json_loads(jobs[i].payload, 0, NULL);
		const char *id = json_string_value(json_object_get(p,
		    "mail_id"));
		struct ingest_opts o;
		char job_id[37] = "";
		int norders = 0;

		if (id == NULL)
			id = json_string_value(json_object_get(p, "mailId"));
		memset(&o, 0, sizeof(o));
		o.priority = jobs[i].priority;
		o.max_attempts = (int)config_int(w->cfg, "queue",
		    "max_attempts");
		o.max_size = (size_t)config_size(w->cfg, "ingest", "max_size");
		if (id == NULL || !is_uuid(id)) {
			outcome(&out[i], OUT_FAIL, 0, "the payload names no "
			    "mail_id");
			json_decref(p);
			continue;
		}
		if ((rc = db_begin(w->db, err)) != IKASQ_OK) {
			json_decref(p);
			return rc;
		}
		rc = ingest_reparse(w->db, w->x, id, &o, &norders, job_id, err);
		if (rc == IKASQ_ENOTFOUND || rc == IKASQ_EDATA)
			outcome(&out[i], OUT_FAIL, 0, "%s", err->msg);
		else if (rc != IKASQ_OK) {
			db_rollback(w->db);
			json_decref(p);
			return rc;
		} else
			outcome(&out[i], OUT_DONE, 0, "%d order number%s%s%s",
			    norders, norders == 1 ? "" : "s",
			    job_id[0] ? "; queued job " : "", job_id);
		json_decref(p);
		if ((rc = finish(w, jobs + i, 1, out + i, err)) != IKASQ_OK)
			return rc;
	}
	return IKASQ_OK;
}

/* --- cleanup ------------------------------------------------------------- */

static int
handle_cleanup(struct worker *w, struct job *jobs, int n, struct outcome *out,
	       struct ikasq_err *err)
{
	long jobs_deleted = 0, rows = 0;
	int i, rc;

	if ((rc = db_begin(w->db, err)) != IKASQ_OK)
		return rc;
	if ((rc = queue_cleanup(w->db, config_duration(w->cfg, "queue",
	    "keep_finished"), &jobs_deleted, err)) != IKASQ_OK ||
	    (rc = cache_purge(w->db, &rows, err)) != IKASQ_OK) {
		db_rollback(w->db);
		return rc;
	}
	outcome(&out[0], OUT_DONE, 0, "deleted %ld finished jobs and %ld "
	    "expired cache rows", jobs_deleted, rows);
	for (i = 1; i < n; i++)
		outcome(&out[i], OUT_DONE, 0, "done by job %s", jobs[0].id);
	return finish(w, jobs, n, out, err);
}
