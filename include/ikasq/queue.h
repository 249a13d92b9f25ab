/*
 * queue.h - the job queue in PostgreSQL (table job_queue).
 *
 * Every state transition of a job is one statement:
 *   pending --claim--> processing --complete--> completed
 *                                 --fail------> pending (retry at now +
 *                                               2^attempts min) or failed
 *                                 --lease expires--> pending (rescue)
 *   pending --cancel--> cancelled;  failed/cancelled --retry--> pending
 * Priority 0..10, higher first; among equals, earlier scheduled_at first.
 * A claimed job carries a lease; only its holder (locked_by) may finish it,
 * so a job rescued from a dead worker is completed exactly once.
 */
#ifndef IKASQ_QUEUE_H
#define IKASQ_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "ikasq/err.h"
#include "ikasq/util.h"

struct db;

#define QUEUE_PRIORITY_MIN 0
#define QUEUE_PRIORITY_MAX 10
#define QUEUE_NOTIFY_CHANNEL "ikasq_jobs"

struct job_spec {
	const char *type;		/* [a-z0-9_.-], 1..64 characters */
	const char *payload;		/* a JSON object */
	int priority;			/* 0..10 */
	const char *run_at;		/* timestamptz text, or NULL for now */
	const char *dedupe_key;		/* NULL: no deduplication */
	int max_attempts;		/* 0: the default (3) */
};

struct job {
	char id[37];
	char *type;
	char *payload;			/* JSON text */
	int priority;
	int attempts;			/* including this claim */
	int max_attempts;
	char *scheduled_at;		/* text, as PostgreSQL prints it */
};

struct job_list {
	struct job *v;
	int n;
};

enum queue_status {
	QS_PENDING, QS_PROCESSING, QS_COMPLETED, QS_FAILED, QS_CANCELLED,
	QS_COUNT
};

struct queue_type_count {
	char *type;
	long by_status[QS_COUNT];
	long total;
};

struct queue_stats {
	long by_status[QS_COUNT];
	long total;
	struct queue_type_count *types;	/* sorted by type name */
	int ntypes;
	double oldest_pending_age;	/* seconds; 0 when none is due */
	long expired_leases;		/* processing with lease in the past */
	long cache_fresh, cache_expired, cache_negative;
};

/* "pending" ... for a status index. */
const char *queue_status_name(int status);
/* True for a valid job type name. */
bool queue_type_valid(const char *type);

/*
 * Add one job.  Bad type, priority, payload or run_at give IKASQ_EDATA and
 * write nothing.  With a dedupe key that a pending or processing job already
 * holds, no job is added: *inserted is false, id is that job's, and its
 * priority is raised to spec->priority if lower.
 */
int queue_enqueue(struct db *db, const struct job_spec *spec, char id[37],
		  bool *inserted, struct ikasq_err *err);
/*
 * The order lookup for a stored mail: job type, dedupe key (the prefix and
 * the mail id: one pending lookup per mail) and payload, as the seed's
 * {"mail_id", "from_email", "subject", "order_numbers"}; mail_id is left
 * out when NULL (ingest adds it in SQL).  from and subject may be NULL.
 * Caller frees.
 */
#define FETCH_JOB_TYPE		"fetch_ikas_order"
#define FETCH_JOB_KEY_PREFIX	"fetch_ikas_order:mail:"
char *fetch_job_payload(const char *mail_id, const char *from,
			const char *subject, const char *const *numbers,
			int n);
/* Add n jobs of one type in one statement (bulk import, benchmarks). */
int queue_enqueue_many(struct db *db, const char *type,
		       const char *const *payloads, int n, int priority,
		       struct ikasq_err *err);

/*
 * Claim up to limit due jobs atomically (FOR UPDATE SKIP LOCKED), in
 * priority then schedule order, of the given types (NULL: all), with a lease
 * of lease_s seconds held by worker.  Jobs whose lease has expired are
 * rescued first.  The caller frees the list with job_list_release().
 */
int queue_claim(struct db *db, const char *const *types, int ntypes,
		int limit, int64_t lease_s, const char *worker,
		struct job_list *out, struct ikasq_err *err);
/* How often queue_claim() runs the rescue (per process), and with what
 * limit; defaults 1 s and 5. */
void queue_set_rescue(int64_t every_ms, int max_rescues);
/* The unit of the 2^attempts backoff; default 60 s (the seed's minutes). */
void queue_set_backoff_unit(int64_t seconds);
void job_list_release(struct job_list *l);

/* Complete jobs held by worker; *done counts those that were still ours
 * (a job whose lease expired and went to another worker is not touched). */
int queue_complete(struct db *db, const char *const *ids, int n,
		   const char *worker, const char *note, long *done,
		   struct ikasq_err *err);

enum queue_fail_kind {
	QF_RETRY,		/* retry at now + 2^attempts min, failed at max */
	QF_PERMANENT,		/* failed now: it cannot get better */
	QF_RETRY_AFTER,		/* rate limited: retry after delay_s, and the
				 * attempt is not counted */
};

/*
 * Record a failure of a job held by worker.  QF_RETRY waits
 * backoff_seconds(job->attempts, unit, backoff_cap_s); QF_RETRY_AFTER waits
 * delay_s.  *state_out (may be NULL) receives the new status (QS_PENDING or
 * QS_FAILED), or -1 when the job was no longer ours.
 */
int queue_fail(struct db *db, const struct job *job, const char *worker,
	       int kind, const char *message, int64_t delay_s,
	       int64_t backoff_cap_s, int *state_out, struct ikasq_err *err);

/* Extend the leases of jobs held by worker (long jobs). */
int queue_extend(struct db *db, const char *const *ids, int n,
		 const char *worker, int64_t lease_s, struct ikasq_err *err);

/*
 * Return jobs whose lease expired to pending, due now.  The lost attempt is
 * given back (the job did not fail, its worker died), but a job that has
 * lost max_rescues leases fails: it is probably what kills the workers.
 * *rescued counts the jobs touched.
 */
int queue_rescue(struct db *db, int max_rescues, long *rescued,
		 struct ikasq_err *err);

/* Operator actions on one job (IKASQ_ENOTFOUND for an unknown id,
 * IKASQ_EDATA when its state does not allow the action). */
int queue_retry(struct db *db, const char *id, struct ikasq_err *err);
int queue_cancel(struct db *db, const char *id, struct ikasq_err *err);

int queue_stats(struct db *db, struct queue_stats *st, struct ikasq_err *err);
void queue_stats_release(struct queue_stats *st);
/* The seed's JSON: {"success":true,"stats":{"byStatus":{..},"byType":{..},
 * "total":N}} (caller frees). */
char *queue_stats_json(const struct queue_stats *st);
/* Prometheus text exposition format (caller frees). */
char *queue_stats_prometheus(const struct queue_stats *st);

/* One job as a JSON object with every column (caller frees *json);
 * IKASQ_ENOTFOUND when there is no such job. */
int queue_show(struct db *db, const char *id, char **json,
	       struct ikasq_err *err);
/* Newest jobs first as a JSON array of objects, filtered by status and
 * type when not NULL (caller frees *json). */
int queue_list(struct db *db, const char *status, const char *type,
	       int limit, char **json, struct ikasq_err *err);

/* Delete completed, failed and cancelled jobs older than older_than_s. */
int queue_cleanup(struct db *db, int64_t older_than_s, long *deleted,
		  struct ikasq_err *err);

#endif
