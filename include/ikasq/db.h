/*
 * db.h - the PostgreSQL connection.  Only db.c includes libpq.
 *
 * Every statement goes through db_exec() with $n parameters (text format,
 * NULL for SQL NULL); statements are prepared once per connection and reused.
 * Errors come back as ikasq_rc values: IKASQ_ETEMP when the server is
 * unreachable or the connection broke (try again), IKASQ_EDATA for rejected
 * values, IKASQ_ECONFIG when the schema is missing (run `ikasq migrate`).
 */
#ifndef IKASQ_DB_H
#define IKASQ_DB_H

#include <stdbool.h>

#include "ikasq/err.h"
#include "ikasq/util.h"

struct config;
struct db;
struct db_res;

/* Connect with [database] settings (or libpq's PG* defaults) and set the
 * search_path to the configured schema.  Caller frees with db_close(). */
int db_connect(const struct config *cfg, struct db **out,
	       struct ikasq_err *err);
void db_close(struct db *db);
/* Drop a broken connection and connect again with the same settings. */
int db_reconnect(struct db *db, struct ikasq_err *err);
/* "database 'ikasq' on '/run/postgresql:5432'", for messages. */
const char *db_describe(const struct db *db);
/* The configured schema name (default "public"). */
const char *db_schema(const struct db *db);

/* Run one statement.  res may be NULL when the caller wants no rows; else
 * the caller frees *res with db_res_free(). */
int db_exec(struct db *db, const char *sql, int nparams,
	    const char *const *params, struct db_res **res,
	    struct ikasq_err *err);
/* db_exec() with binary parameters: lengths[i] and binary[i] (non-zero)
 * for each; for bytea values that may hold any byte. */
int db_exec_bin(struct db *db, const char *sql, int nparams,
		const char *const *params, const int *lengths,
		const int *binary, struct db_res **res, struct ikasq_err *err);
/* Run several statements with no parameters (migrations). */
int db_exec_script(struct db *db, const char *sql, struct ikasq_err *err);

int db_begin(struct db *db, struct ikasq_err *err);
int db_commit(struct db *db, struct ikasq_err *err);
/* Roll back if a transaction is open; never fails (a broken connection has
 * nothing left to roll back). */
void db_rollback(struct db *db);

/*
 * A pipeline: db_pipe_send() hands each statement to the server without
 * waiting for its result (prepared on first use, as db_exec() does on the
 * second); db_pipe_end() waits for them all and leaves pipeline mode.  A
 * statement that fails makes the server skip the rest: db_pipe_end()
 * returns the first error and sets *failed to its index (0-based, in send
 * order), else -1.  res, when not NULL, has one slot per statement sent and
 * gets each one's result (all NULL on failure; free with db_res_free()).
 * Open the transaction with a "BEGIN" sent first, close it with "COMMIT"
 * sent last, and call db_rollback() after a failure.
 */
int db_pipe_begin(struct db *db, struct ikasq_err *err);
int db_pipe_send(struct db *db, const char *sql, int nparams,
		 const char *const *params, const int *lengths,
		 const int *binary, struct ikasq_err *err);
int db_pipe_end(struct db *db, struct db_res **res, int *failed,
		struct ikasq_err *err);

/* LISTEN on a channel (identifier quoted here). */
int db_listen(struct db *db, const char *channel, struct ikasq_err *err);
/*
 * Wait up to timeout_ms (-1: forever) for a notification.  Returns IKASQ_OK
 * with *got true and channel/payload set (caller frees; either pointer may
 * be NULL to ignore), IKASQ_OK with *got false on timeout or EINTR, or
 * IKASQ_ETEMP when the connection broke.
 */
int db_wait_notify(struct db *db, int timeout_ms, bool *got, char **channel,
		   char **payload, struct ikasq_err *err);

int db_ntuples(const struct db_res *res);
int db_nfields(const struct db_res *res);
const char *db_fname(const struct db_res *res, int col);
/* The value as text; "" for NULL (check db_isnull). */
const char *db_get(const struct db_res *res, int row, int col);
bool db_isnull(const struct db_res *res, int row, int col);
/* Rows affected by INSERT/UPDATE/DELETE. */
long db_affected(const struct db_res *res);
void db_res_free(struct db_res *res);

/* Append a PostgreSQL array literal ("{...}") of the strings to sb. */
void db_array_literal(struct strbuf *sb, const char *const *items, int n);

#endif
