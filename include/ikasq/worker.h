/*
 * worker.h - takes jobs from the queue and runs their handlers.
 *
 * Handlers are a table, job type -> function (jobs.c).  A handler gets
 * every claimed job of its type at once (fetch_ikas_order looks their
 * orders up together) and decides each job's outcome; the worker applies
 * the outcomes in the handler's transaction.
 */
#ifndef IKASQ_WORKER_H
#define IKASQ_WORKER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "ikasq/err.h"
#include "ikasq/queue.h"

struct config;
struct db;
struct ikas;
struct extractor;

/* Set by a signal handler: finish the current jobs, then return. */
extern volatile sig_atomic_t worker_stop;

enum outcome_kind {
	OUT_DONE,		/* completed; note says what happened */
	OUT_RETRY,		/* failed; retry after 2^attempts minutes */
	OUT_RETRY_AFTER,	/* rate limited; retry after delay_s, for free */
	OUT_FAIL,		/* failed for good */
};

struct outcome {
	int kind;
	int64_t delay_s;
	char msg[600];		/* note, or what went wrong (one line) */
};

/* A log line and a count that hold only once their transaction commits. */
struct pending {
	int level;
	char *line;
	long *counter;		/* incremented on commit; may be NULL */
	char *error;		/* for the JSON summary; may be NULL */
};

struct worker {
	const struct config *cfg;
	struct db *db;
	struct ikas *ikas;		/* NULL until a handler needs it */
	struct extractor *x;		/* NULL until a handler needs it */
	const char *id;			/* lease holder */
	int64_t lease_s, backoff_unit_s, backoff_cap_s, claim_ms;
	long processed, failed;		/* completed / failed for good */
	long retried;			/* failed, to be retried */
	char **errors;			/* one line per failed attempt */
	int nerrors;
	struct pending *pend;		/* said once committed */
	int npend;
};

struct handler {
	const char *type;
	int (*run)(struct worker *w, struct job *jobs, int n,
		   struct outcome *out, struct ikasq_err *err);
};

/* The job types this worker runs (jobs.c). */
extern const struct handler handlers[];
extern const int nhandlers;

void worker_init(struct worker *w, const struct config *cfg, struct db *db);
void worker_release(struct worker *w);

/*
 * Apply outcomes[i] to jobs[i] inside the open transaction (the handler's,
 * with its cache writes).  A job whose lease another worker took over
 * meanwhile is left alone.  What happened is logged and counted by
 * worker_commit() once it holds, and forgotten by worker_rollback().
 */
int worker_apply(struct worker *w, struct job *jobs, int n,
		 const struct outcome *out, struct ikasq_err *err);
int worker_commit(struct worker *w, struct ikasq_err *err);
void worker_rollback(struct worker *w);
/* Extend the leases of jobs still being worked on (long lookups). */
void worker_keep_leases(struct worker *w, struct job *jobs, int n);

/* Claim and run up to max_jobs jobs (0: all there are), then return. */
int worker_run_once(struct worker *w, long max_jobs, struct ikasq_err *err);
/* The daemon: LISTEN, run what comes, until worker_stop. */
int worker_follow(struct worker *w, struct ikasq_err *err);

#endif
