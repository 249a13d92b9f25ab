/*
 * ingest.h - a raw message becomes a stored mail and, when it names
 * orders, a fetch_ikas_order job: in one transaction, idempotently.
 */
#ifndef IKASQ_INGEST_H
#define IKASQ_INGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "ikasq/err.h"
#include "ikasq/mime.h"

struct db;
struct extractor;

struct ingest_opts {
	const char *source;	/* "stdin", "mbox:FILE", "imap:ACCOUNT/BOX" */
	int priority;		/* of the job, 0..10 */
	int max_attempts;	/* of the job; 0: 3 */
	size_t max_size;	/* 0: MIME_DEFAULT_MAX_SIZE */
	const char *raw_dir;	/* NULL or "": raw bytes in the database */
};

struct ingest_result {
	char mail_id[37];
	bool duplicate;		/* already stored: nothing was written */
	char job_id[37];	/* "" when no job was queued */
};

/* A message to store; note (when not NULL) replaces the parser's, with
 * size, for one fetched by its headers only. */
struct ingest_msg {
	const char *raw;
	size_t len;
	const char *note;
	size_t size;
};

/*
 * A batch in one transaction, sent as a pipeline: ingest_batch_begin();
 * ingest_batch_add() for each message (parsed and its statement sent at
 * once, so the server stores one while the next is parsed); the caller's
 * own statements of the transaction, `extra` of them, with db_pipe_send();
 * then ingest_batch_end() with rc the first failure so far (a failed
 * add's included): it commits and fills r[0..n-1], or abandons the
 * batch.  On a failure in the server *at is the index of the message it
 * came at, else -1.
 */
int ingest_batch_begin(struct db *db, struct ikasq_err *err);
int ingest_batch_add(struct db *db, const struct extractor *x,
		     const struct ingest_opts *o, const struct ingest_msg *m,
		     struct ikasq_err *err);
int ingest_batch_end(struct db *db, int rc, size_t n, int extra,
		     struct ingest_result *r, int *at, struct ikasq_err *err);

/* Prepare and store one message in a transaction of its own. */
int ingest_one(struct db *db, const struct extractor *x,
	       const struct ingest_msg *m, const struct ingest_opts *o,
	       struct ingest_result *r, struct ikasq_err *err);

/*
 * Parse a stored mail again (its raw bytes, from the row or raw_path)
 * with the current patterns, update its row, and queue a fetch job when it
 * names orders (deduplicated), inside the caller's transaction.
 * IKASQ_ENOTFOUND for an unknown mail, IKASQ_EDATA when its raw message is
 * gone.  *norders and job_id ("" when none) say what happened.
 */
int ingest_reparse(struct db *db, const struct extractor *x,
		   const char *mail_id, const struct ingest_opts *o,
		   int *norders, char job_id[37], struct ikasq_err *err);

#endif
