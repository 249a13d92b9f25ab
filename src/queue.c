/*
 * queue.c - job state transitions in job_queue
 *
 * Each transition is one statement, so a crash between two of them leaves
 * every job in a state some worker can carry on from.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ikasq/db.h"
#include "ikasq/queue.h"

static const char *const status_names[QS_COUNT] = {
	"pending", "processing", "completed", "failed", "cancelled",
};

static int64_t backoff_unit = 60;
static int64_t rescue_every_ms = 1000;
static int rescue_max = 5;
static int64_t rescue_last_ms = -1;

const char *
queue_status_name(int status)
{
	return status >= 0 && status < QS_COUNT ? status_names[status] : "?";
}

static int
status_index(const char *s)
{
	int i;

	for (i = 0; i < QS_COUNT; i++)
		if (strcmp(status_names[i], s) == 0)
			return i;
	return -1;
}

bool
queue_type_valid(const char *type)
{
	size_t n = strlen(type);
	const char *p;

	if (n == 0 || n > 64)
		return false;
	for (p = type; *p != '\0'; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) &&
		    *p != '_' && *p != '.' && *p != '-')
			return false;
	return true;
}

static int
check_payload(const char *payload, struct ikasq_err *err)
{
	json_error_t je;
	json_t *j;
	bool object;

	j = json_loads(payload, JSON_REJECT_DUPLICATES, &je);
	if (j == NULL)
		return err_set(err, IKASQ_EDATA, "payload is not JSON: %s "
		    "(at character %d)", je.text, je.position);
	object = json_is_object(j);
	json_decref(j);
	if (!object)
		return err_set(err, IKASQ_EDATA, "payload is not a JSON object");
	return IKASQ_OK;
}

int
queue_enqueue(struct db *db, const struct job_spec *spec, char id[37],
	      bool *inserted, struct ikasq_err *err)
{
	char prio[16], maxa[16];
	const char *p[6];
	struct db_res *res;
	int rc;

	if (!queue_type_valid(spec->type))
		return err_set(err, IKASQ_EDATA, "bad job type '%s': use 1 to "
		    "64 of a-z 0-9 _ . -", spec->type);
	if (spec->priority < QUEUE_PRIORITY_MIN ||
	    spec->priority > QUEUE_PRIORITY_MAX)
		return err_set(err, IKASQ_EDATA, "priority %d is outside "
		    "0..10", spec->priority);
	if (spec->max_attempts < 0 || spec->max_attempts > 100)
		return err_set(err, IKASQ_EDATA, "max attempts %d is outside "
		    "1..100", spec->max_attempts);
	if ((rc = check_payload(spec->payload, err)) != IKASQ_OK)
		return rc;
	snprintf(prio, sizeof(prio), "%d", spec->priority);
	snprintf(maxa, sizeof(maxa), "%d",
	    spec->max_attempts ? spec->max_attempts : 3);
	p[0] = spec->type;
	p[1] = spec->payload;
	p[2] = prio;
	p[3] = spec->run_at;
	p[4] = spec->dedupe_key;
	p[5] = maxa;
	rc = db_exec(db,
	    "INSERT INTO job_queue AS j (job_type, payload, priority,"
	    " scheduled_at, dedupe_key, max_attempts)"
	    " VALUES ($1, $2::jsonb, $3::int,"
	    "  coalesce($4::timestamptz, now()), $5, $6::int)"
	    " ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL"
	    "  AND status IN ('pending', 'processing')"
	    " DO UPDATE SET priority = greatest(j.priority, EXCLUDED.priority),"
	    "  scheduled_at = least(j.scheduled_at, EXCLUDED.scheduled_at),"
	    "  updated_at = now()"
	    " RETURNING id, (xmax = 0)", 6, p, &res, err);
	if (rc == IKASQ_EDATA && spec->run_at != NULL)
		return err_set(err, IKASQ_EDATA, "bad time '%s': use ISO 8601 "
		    "like 2026-12-01T09:00:00+03:00", spec->run_at);
	if (rc != IKASQ_OK)
		return rc;
	snprintf(id, 37, "%s", db_get(res, 0, 0));
	if (inserted != NULL)
		*inserted = strcmp(db_get(res, 0, 1), "t") == 0;
	db_res_free(res);
	return IKASQ_OK;
}

char *
fetch_job_payload(const char *mail_id, const char *from, const char *subject,
		  const char *const *numbers, int n)
{
	json_t *p = json_object(), *nums = json_array();
	char *s, *out;
	int i;

	for (i = 0; i < n; i++)
		json_array_append_new(nums, json_string(numbers[i]));
	if (mail_id != NULL)
		json_object_set_new(p, "mail_id", json_string(mail_id));
	json_object_set_new(p, "from_email", from ? json_string(from) :
	    json_null());
	json_object_set_new(p, "subject", subject ? json_string(subject) :
	    json_null());
	json_object_set_new(p, "order_numbers", nums);
	s = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	out = xstrdup(s);
	free(s);
	return out;
}

int
queue_enqueue_many(struct db *db, const char *type,
		   const char *const *payloads, int n, int priority,
		   struct ikasq_err *err)
{
	struct strbuf arr = STRBUF_INIT;
	char prio[16];
	const char *p[3];
	int rc, i;

	if (!queue_type_valid(type))
		return err_set(err, IKASQ_EDATA, "bad job type '%s'", type);
	if (priority < QUEUE_PRIORITY_MIN || priority > QUEUE_PRIORITY_MAX)
		return err_set(err, IKASQ_EDATA, "priority %d is outside 0..10",
		    priority);
	for (i = 0; i < n; i++)
		if ((rc = check_payload(payloads[i], err)) != IKASQ_OK)
			return err_prefix(err, "job %d", i + 1);
	sb_init(&arr);
	db_array_literal(&arr, payloads, n);
	snprintf(prio, sizeof(prio), "%d", priority);
	p[0] = type;
	p[1] = prio;
	p[2] = arr.buf;
	rc = db_exec(db,
	    "INSERT INTO job_queue (job_type, payload, priority)"
	    " SELECT $1, x, $2::int FROM unnest($3::jsonb[]) AS x",
	    3, p, NULL, err);
	sb_release(&arr);
	return rc;
}

void
queue_set_backoff_unit(int64_t seconds)
{
	backoff_unit = seconds;
}

void
queue_set_rescue(int64_t every_ms, int max_rescues)
{
	rescue_every_ms = every_ms;
	rescue_max = max_rescues;
}

int
queue_rescue(struct db *db, int max_rescues, long *rescued,
	     struct ikasq_err *err)
{
	struct db_res *res;
	char maxr[16];
	const char *p[1];
	int rc;

	snprintf(maxr, sizeof(maxr), "%d", max_rescues);
	p[0] = maxr;
	rc = db_exec(db,
	    "UPDATE job_queue j SET"
	    " status = CASE WHEN j.rescues + 1 >= $1::int"
	    "  THEN 'failed' ELSE 'pending' END,"
	    " attempts = greatest(j.attempts - 1, 0),"
	    " rescues = j.rescues + 1,"
	    " error_message = 'lease expired: worker ' ||"
	    "  coalesce(j.locked_by, '?') || ' stopped before finishing'"
	    "  || CASE WHEN j.rescues + 1 >= $1::int THEN ' (' ||"
	    "  (j.rescues + 1) || ' times; giving up)' ELSE '' END,"
	    " scheduled_at = now(),"
	    " completed_at = CASE WHEN j.rescues + 1 >= $1::int"
	    "  THEN now() END,"
	    " lease_expires_at = NULL, updated_at = now()"
	    " FROM (SELECT id FROM job_queue WHERE status = 'processing'"
	    "  AND lease_expires_at < now() FOR UPDATE SKIP LOCKED) x"
	    " WHERE j.id = x.id", 1, p, &res, err);
	if (rc != IKASQ_OK)
		return rc;
	if (rescued != NULL)
		*rescued = db_affected(res);
	db_res_free(res);
	return IKASQ_OK;
}

static void
job_release(struct job *j)
{
	free(j->type);
	free(j->payload);
	free(j->scheduled_at);
}

void
job_list_release(struct job_list *l)
{
	int i;

	for (i = 0; i < l->n; i++)
		job_release(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int
queue_claim(struct db *db, const char *const *types, int ntypes, int limit,
	    int64_t lease_s, const char *worker, struct job_list *out,
	    struct ikasq_err *err)
{
	struct strbuf arr = STRBUF_INIT;
	struct db_res *res;
	char lim[16], lease[32];
	const char *p[4];
	int rc, i;
	int64_t t;

	out->v = NULL;
	out->n = 0;
	t = now_ms();
	if (rescue_last_ms < 0 || t - rescue_last_ms >= rescue_every_ms) {
		rc = queue_rescue(db, rescue_max, NULL, err);
		if (rc != IKASQ_OK)
			return rc;
		rescue_last_ms = t;
	}
	if (types != NULL) {
		sb_init(&arr);
		db_array_literal(&arr, types, ntypes);
	}
	snprintf(lim, sizeof(lim), "%d", limit);
	snprintf(lease, sizeof(lease), "%lld", (long long)lease_s);
	p[0] = types ? arr.buf : NULL;
	p[1] = lim;
	p[2] = lease;
	p[3] = worker;
	/* the statement lives in sql/002_claim.sql with its planner settings */
	rc = db_exec(db,
	    "SELECT id, job_type, payload::text, priority, attempts,"
	    " max_attempts, scheduled_at"
	    " FROM ikasq_claim($1::text[], $2::int, $3::int, $4)"
	    " ORDER BY priority DESC, scheduled_at", 4, p, &res, err);
	sb_release(&arr);
	if (rc != IKASQ_OK)
		return rc;
	out->n = db_ntuples(res);
	out->v = out->n > 0 ? xcalloc((size_t)out->n, sizeof(*out->v)) : NULL;
	for (i = 0; i < out->n; i++) {
		struct job *j = &out->v[i];

		snprintf(j->id, sizeof(j->id), "%s", db_get(res, i, 0));
		j->type = xstrdup(db_get(res, i, 1));
		j->payload = xstrdup(db_get(res, i, 2));
		j->priority = atoi(db_get(res, i, 3));
		j->attempts = atoi(db_get(res, i, 4));
		j->max_attempts = atoi(db_get(res, i, 5));
		j->scheduled_at = xstrdup(db_get(res, i, 6));
	}
	db_res_free(res);
	return IKASQ_OK;
}

int
queue_complete(struct db *db, const char *const *ids, int n,
	       const char *worker, const char *note, long *done,
	       struct ikasq_err *err)
{
	struct strbuf arr = STRBUF_INIT;
	struct db_res *res;
	const char *p[3];
	int rc;

	sb_init(&arr);
	db_array_literal(&arr, ids, n);
	p[0] = n == 1 ? ids[0] : arr.buf;
	p[1] = worker;
	p[2] = note;
	/* one job by its key: a generic plan for "= ANY ($1)" may guess a
	 * scan of the whole table for what is one row */
	rc = db_exec(db, n == 1 ?
	    "UPDATE job_queue SET status = 'completed', completed_at = now(),"
	    " lease_expires_at = NULL, result = $3, updated_at = now()"
	    " WHERE id = $1::uuid AND status = 'processing'"
	    " AND locked_by = $2" :
	    "UPDATE job_queue SET status = 'completed', completed_at = now(),"
	    " lease_expires_at = NULL, result = $3, updated_at = now()"
	    " WHERE id = ANY ($1::uuid[]) AND status = 'processing'"
	    " AND locked_by = $2", 3, p, &res, err);
	sb_release(&arr);
	if (rc != IKASQ_OK)
		return rc;
	if (done != NULL)
		*done = db_affected(res);
	db_res_free(res);
	return IKASQ_OK;
}

int
queue_fail(struct db *db, const struct job *job, const char *worker,
	   int kind, const char *message, int64_t delay_s,
	   int64_t backoff_cap_s, int *state_out, struct ikasq_err *err)
{
	struct db_res *res;
	char delay[32];
	const char *p[4];
	const char *sql;
	int rc;

	if (kind == QF_RETRY)
		delay_s = backoff_seconds(job->attempts, backoff_unit,
		    backoff_cap_s);
	snprintf(delay, sizeof(delay), "%lld", (long long)delay_s);
	p[0] = job->id;
	p[1] = worker;
	p[2] = message;
	p[3] = delay;
	switch (kind) {
	case QF_RETRY:
		sql = "UPDATE job_queue SET"
		    " status = CASE WHEN attempts >= max_attempts"
		    "  THEN 'failed' ELSE 'pending' END,"
		    " scheduled_at = CASE WHEN attempts >= max_attempts"
		    "  THEN scheduled_at"
		    "  ELSE now() + make_interval(secs => $4::bigint) END,"
		    " completed_at = CASE WHEN attempts >= max_attempts"
		    "  THEN now() END,"
		    " error_message = $3, lease_expires_at = NULL,"
		    " updated_at = now()"
		    " WHERE id = $1::uuid AND status = 'processing'"
		    " AND locked_by = $2 RETURNING status";
		break;
	case QF_RETRY_AFTER:
		sql = "UPDATE job_queue SET status = 'pending',"
		    " attempts = greatest(attempts - 1, 0),"
		    " scheduled_at = now() + make_interval(secs => $4::bigint),"
		    " error_message = $3, lease_expires_at = NULL,"
		    " updated_at = now()"
		    " WHERE id = $1::uuid AND status = 'processing'"
		    " AND locked_by = $2 RETURNING status";
		break;
	default:
		sql = "UPDATE job_queue SET status = 'failed',"
		    " completed_at = now(), error_message = $3,"
		    " lease_expires_at = NULL, updated_at = now()"
		    " WHERE id = $1::uuid AND status = 'processing'"
		    " AND locked_by = $2 AND $4::bigint >= 0 RETURNING status";
		break;
	}
	rc = db_exec(db, sql, 4, p, &res, err);
	if (rc != IKASQ_OK)
		return rc;
	if (state_out != NULL)
		*state_out = db_ntuples(res) == 1 ?
		    status_index(db_get(res, 0, 0)) : -1;
	db_res_free(res);
	return IKASQ_OK;
}

int
queue_extend(struct db *db, const char *const *ids, int n, const char *worker,
	     int64_t lease_s, struct ikasq_err *err)
{
	struct strbuf arr = STRBUF_INIT;
	char lease[32];
	const char *p[3];
	int rc;

	sb_init(&arr);
	db_array_literal(&arr, ids, n);
	snprintf(lease, sizeof(lease), "%lld", (long long)lease_s);
	p[0] = arr.buf;
	p[1] = worker;
	p[2] = lease;
	rc = db_exec(db,
	    "UPDATE job_queue SET"
	    " lease_expires_at = now() + make_interval(secs => $3::int),"
	    " updated_at = now()"
	    " WHERE id = ANY ($1::uuid[]) AND status = 'processing'"
	    " AND locked_by = $2", 3, p, NULL, err);
	sb_release(&arr);
	return rc;
}

/* The status of one job, for operator errors; IKASQ_ENOTFOUND if none. */
static int
job_status(struct db *db, const char *id, int *status, struct ikasq_err *err)
{
	struct db_res *res;
	const char *p[1] = { id };
	int rc;

	if (!is_uuid(id))
		return err_set(err, IKASQ_ENOTFOUND, "unknown job '%s': not a "
		    "job id", id);
	rc = db_exec(db, "SELECT status FROM job_queue WHERE id = $1::uuid",
	    1, p, &res, err);
	if (rc != IKASQ_OK)
		return rc;
	if (db_ntuples(res) == 0) {
		db_res_free(res);
		return err_set(err, IKASQ_ENOTFOUND, "unknown job '%s'", id);
	}
	*status = status_index(db_get(res, 0, 0));
	db_res_free(res);
	return IKASQ_OK;
}

int
queue_retry(struct db *db, const char *id, struct ikasq_err *err)
{
	struct db_res *res;
	const char *p[1] = { id };
	int rc, st;

	if ((rc = job_status(db, id, &st, err)) != IKASQ_OK)
		return rc;
	if (st != QS_FAILED && st != QS_CANCELLED && st != QS_PENDING)
		return err_set(err, IKASQ_EDATA, "job '%s' is %s; only failed, "
		    "cancelled or pending jobs can be retried", id,
		    queue_status_name(st));
	/* a pending job is only moved up to now; a finished one starts over */
	rc = db_exec(db,
	    "UPDATE job_queue SET"
	    " attempts = CASE WHEN status = 'pending' THEN attempts ELSE 0 END,"
	    " rescues = CASE WHEN status = 'pending' THEN rescues ELSE 0 END,"
	    " status = 'pending', scheduled_at = now(), completed_at = NULL,"
	    " lease_expires_at = NULL, updated_at = now()"
	    " WHERE id = $1::uuid"
	    " AND status IN ('failed', 'cancelled', 'pending')"
	    " RETURNING id", 1, p, &res, err);
	if (rc != IKASQ_OK)
		return rc;
	if (db_ntuples(res) == 0)
		rc = err_set(err, IKASQ_ETEMP, "job '%s' changed state "
		    "meanwhile; try again", id);
	db_res_free(res);
	if (rc == IKASQ_OK)
		rc = db_exec(db, "SELECT pg_notify('" QUEUE_NOTIFY_CHANNEL
		    "', '')", 0, NULL, NULL, err);
	return rc;
}

int
queue_cancel(struct db *db, const char *id, struct ikasq_err *err)
{
	struct db_res *res;
	const char *p[1] = { id };
	int rc, st;

	if ((rc = job_status(db, id, &st, err)) != IKASQ_OK)
		return rc;
	if (st != QS_PENDING && st != QS_PROCESSING)
		return err_set(err, IKASQ_EDATA, "job '%s' is already %s", id,
		    queue_status_name(st));
	rc = db_exec(db,
	    "UPDATE job_queue SET status = 'cancelled', completed_at = now(),"
	    " lease_expires_at = NULL, updated_at = now()"
	    " WHERE id = $1::uuid AND status IN ('pending', 'processing')"
	    " RETURNING id", 1, p, &res, err);
	if (rc != IKASQ_OK)
		return rc;
	if (db_ntuples(res) == 0)
		rc = err_set(err, IKASQ_ETEMP, "job '%s' changed state "
		    "meanwhile; try again", id);
	db_res_free(res);
	return rc;
}

static struct queue_type_count *
type_slot(struct queue_stats *st, const char *type)
{
	struct queue_type_count *t;
	int i;

	for (i = 0; i < st->ntypes; i++)
		if (strcmp(st->types[i].type, type) == 0)
			return &st->types[i];
	st->types = xrealloc(st->types, (size_t)(st->ntypes + 1) *
	    sizeof(*st->types));
	t = &st->types[st->ntypes++];
	memset(t, 0, sizeof(*t));
	t->type = xstrdup(type);
	return t;
}

int
queue_stats(struct db *db, struct queue_stats *st, struct ikasq_err *err)
{
	struct db_res *res;
	int rc, i;

	memset(st, 0, sizeof(*st));
	rc = db_exec(db,
	    "SELECT job_type, status, count(*) FROM job_queue"
	    " GROUP BY job_type, status ORDER BY job_type, status",
	    0, NULL, &res, err);
	if (rc != IKASQ_OK)
		return rc;
	for (i = 0; i < db_ntuples(res); i++) {
		struct queue_type_count *t = type_slot(st, db_get(res, i, 0));
		int s = status_index(db_get(res, i, 1));
		long n = atol(db_get(res, i, 2));

		if (s >= 0) {
			t->by_status[s] += n;
			st->by_status[s] += n;
		}
		t->total += n;
		st->total += n;
	}
	db_res_free(res);
	rc = db_exec(db,
	    "SELECT (SELECT coalesce(extract(epoch FROM now() -"
	    "  min(scheduled_at)), 0) FROM job_queue WHERE status = 'pending'"
	    "  AND scheduled_at <= now()),"
	    " (SELECT count(*) FROM job_queue WHERE status = 'processing'"
	    "  AND lease_expires_at < now()),"
	    " (SELECT row(count(*) FILTER (WHERE expires_at > now() AND found),"
	    "   count(*) FILTER (WHERE expires_at <= now()),"
	    "   count(*) FILTER (WHERE expires_at > now() AND NOT found))"
	    "  FROM ikas_order_cache)",
	    0, NULL, &res, err);
	if (rc != IKASQ_OK) {
		queue_stats_release(st);
		return rc;
	}
	st->oldest_pending_age = atof(db_get(res, 0, 0));
	st->expired_leases = atol(db_get(res, 0, 1));
	if (sscanf(db_get(res, 0, 2), "(%ld,%ld,%ld)", &st->cache_fresh,
	    &st->cache_expired, &st->cache_negative) != 3)
		st->cache_fresh = st->cache_expired = st->cache_negative = 0;
	db_res_free(res);
	return IKASQ_OK;
}

void
queue_stats_release(struct queue_stats *st)
{
	int i;

	for (i = 0; i < st->ntypes; i++)
		free(st->types[i].type);
	free(st->types);
	st->types = NULL;
	st->ntypes = 0;
}

char *
queue_stats_json(const struct queue_stats *st)
{
	json_t *root, *stats, *bys, *byt;
	char *s, *out;
	int i;

	bys = json_object();
	for (i = 0; i < QS_COUNT; i++)
		json_object_set_new(bys, status_names[i],
		    json_integer(st->by_status[i]));
	byt = json_object();
	for (i = 0; i < st->ntypes; i++)
		json_object_set_new(byt, st->types[i].type,
		    json_integer(st->types[i].total));
	stats = json_object();
	json_object_set_new(stats, "byStatus", bys);
	json_object_set_new(stats, "byType", byt);
	json_object_set_new(stats, "total", json_integer(st->total));
	root = json_object();
	json_object_set_new(root, "success", json_true());
	json_object_set_new(root, "stats", stats);
	s = json_dumps(root, JSON_PRESERVE_ORDER | JSON_COMPACT);
	json_decref(root);
	out = xstrdup(s);
	free(s);
	return out;
}

/* Prometheus label values escape backslash, quote and newline. */
static void
prom_label(struct strbuf *sb, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			sb_addc(sb, '\\');
		if (*v == '\n') {
			sb_adds(sb, "\\n");
			continue;
		}
		sb_addc(sb, *v);
	}
}

char *
queue_stats_prometheus(const struct queue_stats *st)
{
	struct strbuf sb = STRBUF_INIT;
	int i, s;

	sb_init(&sb);
	sb_adds(&sb, "# HELP ikasq_jobs Jobs in the queue by type and "
	    "status.\n# TYPE ikasq_jobs gauge\n");
	for (i = 0; i < st->ntypes; i++)
		for (s = 0; s < QS_COUNT; s++) {
			sb_adds(&sb, "ikasq_jobs{type=\"");
			prom_label(&sb, st->types[i].type);
			sb_addf(&sb, "\",status=\"%s\"} %ld\n", status_names[s],
			    st->types[i].by_status[s]);
		}
	sb_addf(&sb, "# HELP ikasq_oldest_pending_seconds How long the "
	    "oldest due job has waited.\n"
	    "# TYPE ikasq_oldest_pending_seconds gauge\n"
	    "ikasq_oldest_pending_seconds %.3f\n", st->oldest_pending_age);
	sb_addf(&sb, "# HELP ikasq_expired_leases Running jobs whose worker "
	    "missed its lease.\n# TYPE ikasq_expired_leases gauge\n"
	    "ikasq_expired_leases %ld\n", st->expired_leases);
	sb_addf(&sb, "# HELP ikasq_cache_entries Rows in the order cache.\n"
	    "# TYPE ikasq_cache_entries gauge\n"
	    "ikasq_cache_entries{state=\"fresh\"} %ld\n"
	    "ikasq_cache_entries{state=\"negative\"} %ld\n"
	    "ikasq_cache_entries{state=\"expired\"} %ld\n",
	    st->cache_fresh, st->cache_negative, st->cache_expired);
	return sb_detach(&sb);
}

int
queue_cleanup(struct db *db, int64_t older_than_s, long *deleted,
	      struct ikasq_err *err)
{
	struct db_res *res;
	char secs[32];
	const char *p[1];
	int rc;

	snprintf(secs, sizeof(secs), "%lld", (long long)older_than_s);
	p[0] = secs;
	rc = db_exec(db,
	    "DELETE FROM job_queue"
	    " WHERE status IN ('completed', 'failed', 'cancelled')"
	    " AND coalesce(completed_at, updated_at)"
	    "  < now() - make_interval(secs => $1::bigint)", 1, p, &res, err);
	if (rc != IKASQ_OK)
		return rc;
	*deleted = db_affected(res);
	db_res_free(res);
	return IKASQ_OK;
}

int
queue_show(struct db *db, const char *id, char **json, struct ikasq_err *err)
{
	struct db_res *res;
	const char *p[1] = { id };
	int rc;

	*json = NULL;
	if (!is_uuid(id))
		return err_set(err, IKASQ_ENOTFOUND, "unknown job '%s': not a "
		    "job id", id);
	rc = db_exec(db, "SELECT to_jsonb(j)::text FROM job_queue j"
	    " WHERE id = $1::uuid", 1, p, &res, err);
	if (rc != IKASQ_OK)
		return rc;
	if (db_ntuples(res) == 0)
		rc = err_set(err, IKASQ_ENOTFOUND, "unknown job '%s'", id);
	else
		*json = xstrdup(db_get(res, 0, 0));
	db_res_free(res);
	return rc;
}

int
queue_list(struct db *db, const char *status, const char *type, int limit,
	   char **json, struct ikasq_err *err)
{
	struct db_res *res;
	char lim[16];
	const char *p[3];
	int rc;

	snprintf(lim, sizeof(lim), "%d", limit);
	p[0] = status;
	p[1] = type;
	p[2] = lim;
	rc = db_exec(db,
	    "SELECT coalesce(json_agg(x ORDER BY x.created_at DESC), '[]')::text"
	    " FROM (SELECT id, job_type, status, priority, attempts,"
	    "  max_attempts, scheduled_at, created_at, error_message"
	    "  FROM job_queue"
	    "  WHERE ($1::text IS NULL OR status = $1)"
	    "  AND ($2::text IS NULL OR job_type = $2)"
	    "  ORDER BY created_at DESC LIMIT $3::int) x", 3, p, &res, err);
	if (rc != IKASQ_OK)
		return rc;
	*json = xstrdup(db_get(res, 0, 0));
	db_res_free(res);
	return IKASQ_OK;
}
