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
struct db_res;
struct extractor;
struct order_match;

struct ingest_opts {
	const char *source;	/* "stdin", "mbox:FILE", "imap:ACCOUNT/BOX" */
	int priority;		/* of the job, 0..10 */
	int max_attempts;	/* of the job; 0: 3 */
	size_t max_size;	/* 0: MIME_DEFAULT_MAX_SIZE */
	const char *raw_dir;	/* NULL or "": raw bytes in the database */
};

/* A parsed message, ready to store. */
struct ingest_item {
	struct mail mail;
	struct order_match *orders;
	int norders;
};

struct ingest_result {
	char mail_id[37];
	bool duplicate;		/* already stored: nothing was written */
	char job_id[37];	/* "" when no job was queued */
};

/* Parse and extract (no database).  Release with ingest_item_release(). */
void ingest_prepare(const struct extractor *x, const char *raw, size_t len,
		    const struct ingest_opts *o, struct ingest_item *it);
void ingest_item_release(struct ingest_item *it);

/* Store it inside the caller's transaction. */
int ingest_store(struct db *db, const struct ingest_item *it,
		 const char *raw, size_t len, const struct ingest_opts *o,
		 struct ingest_result *r, struct ikasq_err *err);

/*
 * The same for a pipeline (db_pipe_begin()): send the statement now, read
 * its result from db_pipe_end() with ingest_result_read().
 */
int ingest_send(struct db *db, const struct ingest_item *it,
		const char *raw, size_t len, const struct ingest_opts *o,
		struct ikasq_err *err);
void ingest_result_read(const struct db_res *res, struct ingest_result *r);

/* Prepare and store one message in a transaction of its own. */
int ingest_one(struct db *db, const struct extractor *x, const char *raw,
	       size_t len, const struct ingest_opts *o,
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
