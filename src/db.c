/*
 * db.c - PostgreSQL through libpq (the only file that includes it)
 *
 * Statements are prepared on first use and kept per connection, keyed by
 * their text.  Errors are classified by SQLSTATE into ikasq_rc values so that
 * callers can tell "try again later" from "this input is bad".
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "ikasq/config.h"
#include "ikasq/db.h"
#include "ikasq/log.h"

#define STMT_CACHE_MAX 128

struct stmt {
	char *sql;
	unsigned long hash;
	bool prepared;		/* on its second use: one-shot commands make
				 * one round trip, loops get a cached plan */
};

struct db {
	PGconn *conn;
	const struct config *cfg;
	char *describe;
	char *schema;
	struct stmt stmts[STMT_CACHE_MAX];
	int nstmts;
	/* in pipeline mode: what each sent item will answer, in order:
	 * a statement's index when it is a Parse (PQsendPrepare), -1 for a
	 * query whose result the caller gets */
	int *pipe;
	int npipe, pipe_alloc, nqueries;
};

struct db_res {
	PGresult *r;
};

static unsigned long
hash_str(const char *s)
{
	unsigned long h = 5381;

	while (*s != '\0')
		h = h * 33 ^ (unsigned char)*s++;
	return h;
}

/* libpq's messages span lines ("...failed: reason\n\tIs the server...");
 * ours are one line. */
static void
one_line(char *dst, size_t size, const char *src)
{
	size_t n = 0;
	bool space = false;

	for (; *src != '\0' && n + 1 < size; src++) {
		if (*src == '\n' || *src == '\r' || *src == '\t' ||
		    *src == ' ') {
			space = n > 0;
			continue;
		}
		if (space && n + 2 < size)
			dst[n++] = ' ';
		space = false;
		dst[n++] = *src;
	}
	dst[n] = '\0';
}

static void
notice_to_log(void *arg, const char *message)
{
	char line[1024];

	one_line(line, sizeof(line), message);
	log_debug("database: %s", line);
}

static void
set_describe(struct db *db)
{
	const char *host = PQhost(db->conn), *port = PQport(db->conn);
	const char *name = PQdb(db->conn);

	free(db->describe);
	db->describe = xasprintf("database '%s' on '%s:%s'",
	    name ? name : "?", host && *host ? host : "localhost",
	    port && *port ? port : "5432");
}

static int
classify_connect_failure(PGconn *conn)
{
	const char *m = PQerrorMessage(conn);

	if (PQconnectionNeedsPassword(conn) ||
	    strstr(m, "authentication failed") != NULL)
		return IKASQ_EPERM;
	if (strstr(m, "does not exist") != NULL)
		return IKASQ_ECONFIG;
	return IKASQ_ETEMP;
}

static int
open_conn(struct db *db, struct ikasq_err *err)
{
	const char *kw[8], *val[8];
	char *password = NULL, timeout[32];
	const char *conninfo;
	int n = 0, rc;
	char line[900];

	rc = config_secret(db->cfg, "database", "password", &password, err);
	if (rc != IKASQ_OK)
		return rc;
	conninfo = config_str(db->cfg, "database", "conninfo");
	snprintf(timeout, sizeof(timeout), "%lld", (long long)
	    config_duration(db->cfg, "database", "connect_timeout"));
	kw[n] = "dbname";
	val[n++] = conninfo && *conninfo ? conninfo : NULL;
	if (val[n - 1] == NULL)
		n--;
	kw[n] = "fallback_application_name"; val[n++] = "ikasq";
	kw[n] = "client_encoding"; val[n++] = "UTF8";
	if (getenv("PGCONNECT_TIMEOUT") == NULL) {
		kw[n] = "connect_timeout";
		val[n++] = timeout;
	}
	if (password != NULL) {
		kw[n] = "password";
		val[n++] = password;
	}
	kw[n] = NULL;
	val[n] = NULL;
	db->conn = PQconnectdbParams(kw, val, 1);
	if (password != NULL) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	if (db->conn == NULL)
		return err_set(err, IKASQ_EINTERNAL, "out of memory");
	set_describe(db);
	if (PQstatus(db->conn) != CONNECTION_OK) {
		one_line(line, sizeof(line), PQerrorMessage(db->conn));
		rc = classify_connect_failure(db->conn);
		err_set(err, rc, "cannot connect to %s: %s", db->describe,
		    line);
		PQfinish(db->conn);
		db->conn = NULL;
		return rc;
	}
	PQsetNoticeProcessor(db->conn, notice_to_log, NULL);
	db->nstmts = 0;
	{
		/* a fixed search_path: our schema, pg_catalog always first */
		const char *p[1] = { db->schema };

		rc = db_exec(db, "SELECT pg_catalog.set_config('search_path',"
		    " pg_catalog.quote_ident($1), false)", 1, p, NULL, err);
	}
	return rc;
}

int
db_connect(const struct config *cfg, struct db **out, struct ikasq_err *err)
{
	struct db *db = xcalloc(1, sizeof(*db));
	int rc;

	db->cfg = cfg;
	db->schema = xstrdup(config_str(cfg, "database", "schema"));
	rc = open_conn(db, err);
	if (rc != IKASQ_OK) {
		db_close(db);
		*out = NULL;
		return rc;
	}
	*out = db;
	return IKASQ_OK;
}

static void
forget_statements(struct db *db)
{
	int i;

	for (i = 0; i < db->nstmts; i++)
		free(db->stmts[i].sql);
	db->nstmts = 0;
}

void
db_close(struct db *db)
{
	if (db == NULL)
		return;
	if (db->conn != NULL)
		PQfinish(db->conn);
	forget_statements(db);
	free(db->pipe);
	free(db->describe);
	free(db->schema);
	free(db);
}

int
db_reconnect(struct db *db, struct ikasq_err *err)
{
	if (db->conn != NULL)
		PQfinish(db->conn);
	db->conn = NULL;
	forget_statements(db);
	return open_conn(db, err);
}

const char *
db_describe(const struct db *db)
{
	return db->describe ? db->describe : "database";
}

const char *
db_schema(const struct db *db)
{
	return db->schema;
}

/* The ikasq_rc for a failed result, with the message in err. */
static int
result_error(struct db *db, PGresult *r, struct ikasq_err *err)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)
	    : NULL;
	char line[800];
	int rc;

	if (msg == NULL)
		msg = PQerrorMessage(db->conn);
	one_line(line, sizeof(line), msg);
	/* 57P01..57P03: the server is shutting down or crashed; in a
	 * pipeline the FATAL comes before libpq notices the closed socket */
	if (PQstatus(db->conn) != CONNECTION_OK || state == NULL ||
	    strncmp(state, "57P0", 4) == 0)
		return err_set(err, IKASQ_ETEMP, "lost connection to %s: %s",
		    db_describe(db), line);
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "53", 2) == 0 ||
	    strncmp(state, "57P", 3) == 0 || strcmp(state, "40001") == 0 ||
	    strcmp(state, "40P01") == 0 || strcmp(state, "55P03") == 0 ||
	    strcmp(state, "25006") == 0)
		rc = IKASQ_ETEMP;
	else if (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0)
		rc = IKASQ_EDATA;
	else if (strcmp(state, "42P01") == 0 || strcmp(state, "42883") == 0 ||
	    strcmp(state, "42703") == 0 || strcmp(state, "3F000") == 0)
		return err_set(err, IKASQ_ECONFIG, "%s: %s (has 'ikasq migrate'"
		    " been run?)", db_describe(db), line);
	else if (strncmp(state, "28", 2) == 0 || strcmp(state, "42501") == 0)
		rc = IKASQ_EPERM;
	else
		rc = IKASQ_EINTERNAL;
	return err_set(err, rc, "%s: %s", db_describe(db), line);
}

/*
 * The statement's slot in the cache, a new one (not prepared) on its first
 * use; -1 when the cache is full.  *fresh says it was new.
 */
static int
stmt_find(struct db *db, const char *sql, bool *fresh)
{
	unsigned long h = hash_str(sql);
	int i;

	*fresh = false;
	for (i = 0; i < db->nstmts; i++)
		if (db->stmts[i].hash == h &&
		    strcmp(db->stmts[i].sql, sql) == 0)
			return i;
	if (db->nstmts == STMT_CACHE_MAX)
		return -1;
	db->stmts[i].sql = xstrdup(sql);
	db->stmts[i].hash = h;
	db->stmts[i].prepared = false;
	db->nstmts++;
	*fresh = true;
	return i;
}

static const char *
stmt_name(struct db *db, const char *sql, int nparams, struct ikasq_err *err,
	  int *rc)
{
	static char name[32];
	PGresult *r;
	bool fresh;
	int i;

	*rc = IKASQ_OK;
	/* first use: remember it, run it unnamed */
	if ((i = stmt_find(db, sql, &fresh)) < 0 || fresh)
		return NULL;
	snprintf(name, sizeof(name), "ikasq_%d", i);
	if (db->stmts[i].prepared)
		return name;
	r = PQprepare(db->conn, name, sql, nparams, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		*rc = result_error(db, r, err);
		PQclear(r);
		return NULL;
	}
	PQclear(r);
	db->stmts[i].prepared = true;
	return name;
}

int
db_exec(struct db *db, const char *sql, int nparams,
	const char *const *params, struct db_res **res, struct ikasq_err *err)
{
	return db_exec_bin(db, sql, nparams, params, NULL, NULL, res, err);
}

int
db_exec_bin(struct db *db, const char *sql, int nparams,
	    const char *const *params, const int *lengths, const int *binary,
	    struct db_res **res, struct ikasq_err *err)
{
	const char *name;
	PGresult *r;
	ExecStatusType st;
	int rc;

	if (res != NULL)
		*res = NULL;
	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK)
		return err_set(err, IKASQ_ETEMP, "lost connection to %s",
		    db_describe(db));
	name = stmt_name(db, sql, nparams, err, &rc);
	if (rc != IKASQ_OK)
		return rc;
	if (name != NULL)
		r = PQexecPrepared(db->conn, name, nparams, params, lengths,
		    binary, 0);
	else
		r = PQexecParams(db->conn, sql, nparams, NULL, params, lengths,
		    binary, 0);
	st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		rc = result_error(db, r, err);
		PQclear(r);
		return rc;
	}
	if (res != NULL) {
		*res = xmalloc(sizeof(**res));
		(*res)->r = r;
	} else {
		PQclear(r);
	}
	return IKASQ_OK;
}

int
db_exec_script(struct db *db, const char *sql, struct ikasq_err *err)
{
	PGresult *r;
	int rc = IKASQ_OK;

	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK)
		return err_set(err, IKASQ_ETEMP, "lost connection to %s",
		    db_describe(db));
	r = PQexec(db->conn, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK)
		rc = result_error(db, r, err);
	PQclear(r);
	return rc;
}

int
db_begin(struct db *db, struct ikasq_err *err)
{
	return db_exec(db, "BEGIN", 0, NULL, NULL, err);
}

int
db_commit(struct db *db, struct ikasq_err *err)
{
	struct db_res *res;
	int rc;

	rc = db_exec(db, "COMMIT", 0, NULL, &res, err);
	if (rc != IKASQ_OK)
		return rc;
	/* COMMIT of a failed transaction "succeeds" as ROLLBACK */
	if (strcmp(PQcmdStatus(res->r), "COMMIT") != 0)
		rc = err_set(err, IKASQ_EINTERNAL, "%s: transaction was rolled "
		    "back", db_describe(db));
	db_res_free(res);
	return rc;
}

void
db_rollback(struct db *db)
{
	PGresult *r;

	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK ||
	    PQtransactionStatus(db->conn) == PQTRANS_IDLE)
		return;
	r = PQexec(db->conn, "ROLLBACK");
	PQclear(r);
}

/*
 * Pipelines.  Statements are sent without waiting for their results, so
 * the server works while the caller prepares the next one; db_pipe_end()
 * sends a Sync and collects every result.
 */
int
db_pipe_begin(struct db *db, struct ikasq_err *err)
{
	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK)
		return err_set(err, IKASQ_ETEMP, "lost connection to %s",
		    db_describe(db));
	if (!PQenterPipelineMode(db->conn))
		return err_set(err, IKASQ_EINTERNAL, "%s: cannot enter "
		    "pipeline mode", db_describe(db));
	db->npipe = db->nqueries = 0;
	return IKASQ_OK;
}

static void
pipe_push(struct db *db, int what)
{
	if (db->npipe == db->pipe_alloc) {
		db->pipe_alloc = db->pipe_alloc ? 2 * db->pipe_alloc : 64;
		db->pipe = xrealloc(db->pipe, (size_t)db->pipe_alloc *
		    sizeof(*db->pipe));
	}
	db->pipe[db->npipe++] = what;
}

static int
send_failed(struct db *db, struct ikasq_err *err)
{
	char line[800];

	one_line(line, sizeof(line), PQerrorMessage(db->conn));
	return err_set(err, IKASQ_ETEMP, "lost connection to %s: %s",
	    db_describe(db), line);
}

int
db_pipe_send(struct db *db, const char *sql, int nparams,
	     const char *const *params, const int *lengths, const int *binary,
	     struct ikasq_err *err)
{
	char name[32];
	bool fresh;
	int i = stmt_find(db, sql, &fresh);

	snprintf(name, sizeof(name), "ikasq_%d", i);
	if (i >= 0 && !db->stmts[i].prepared) {
		/* in a pipeline a Parse costs no round trip: prepare at once */
		if (!PQsendPrepare(db->conn, name, sql, nparams, NULL))
			return send_failed(db, err);
		db->stmts[i].prepared = true;
		pipe_push(db, i);
	}
	if (i >= 0) {
		if (!PQsendQueryPrepared(db->conn, name, nparams, params,
		    lengths, binary, 0))
			return send_failed(db, err);
	} else if (!PQsendQueryParams(db->conn, sql, nparams, NULL, params,
	    lengths, binary, 0)) {
		return send_failed(db, err);
	}
	pipe_push(db, -1);
	db->nqueries++;
	/* hand it to the server now, not when libpq's buffer is full */
	if (PQflush(db->conn) != 0)
		return send_failed(db, err);
	return IKASQ_OK;
}

int
db_pipe_end(struct db *db, struct db_res **res, int *failed,
	    struct ikasq_err *err)
{
	PGresult *r;
	int k, q = 0, rc = IKASQ_OK;

	*failed = -1;
	for (k = 0; k < db->nqueries; k++)
		if (res != NULL)
			res[k] = NULL;
	if (!PQpipelineSync(db->conn)) {
		rc = send_failed(db, err);
		goto out;
	}
	for (k = 0; k < db->npipe; k++) {
		ExecStatusType st;
		int what = db->pipe[k];

		r = PQgetResult(db->conn);
		if (r == NULL) {
			rc = send_failed(db, err);
			goto out;
		}
		st = PQresultStatus(r);
		if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
			if (what >= 0)
				db->stmts[what].prepared = false;
			if (rc == IKASQ_OK && st != PGRES_PIPELINE_ABORTED) {
				rc = result_error(db, r, err);
				*failed = q;
			}
			PQclear(r);
		} else if (what < 0 && res != NULL) {
			res[q] = xmalloc(sizeof(**res));
			res[q]->r = r;
		} else {
			PQclear(r);
		}
		q += what < 0;
		/* each item ends with a NULL */
		while ((r = PQgetResult(db->conn)) != NULL)
			PQclear(r);
		if (PQstatus(db->conn) != CONNECTION_OK) {
			if (rc == IKASQ_OK)
				rc = send_failed(db, err);
			goto out;
		}
	}
	r = PQgetResult(db->conn);
	if (PQresultStatus(r) != PGRES_PIPELINE_SYNC && rc == IKASQ_OK)
		rc = send_failed(db, err);
	PQclear(r);
out:
	if (!PQexitPipelineMode(db->conn) && rc == IKASQ_OK)
		rc = send_failed(db, err);
	if (rc != IKASQ_OK && res != NULL)
		for (k = 0; k < db->nqueries; k++) {
			db_res_free(res[k]);
			res[k] = NULL;
		}
	db->npipe = db->nqueries = 0;
	return rc;
}

int
db_listen(struct db *db, const char *channel, struct ikasq_err *err)
{
	char *ident, *sql;
	int rc;

	if (db->conn == NULL)
		return err_set(err, IKASQ_ETEMP, "lost connection to %s",
		    db_describe(db));
	ident = PQescapeIdentifier(db->conn, channel, strlen(channel));
	if (ident == NULL)
		return err_set(err, IKASQ_EINTERNAL, "cannot quote '%s'",
		    channel);
	sql = xasprintf("LISTEN %s", ident);
	PQfreemem(ident);
	rc = db_exec_script(db, sql, err);
	free(sql);
	return rc;
}

static bool
take_notify(struct db *db, char **channel, char **payload)
{
	PGnotify *n = PQnotifies(db->conn);

	if (n == NULL)
		return false;
	if (channel != NULL)
		*channel = xstrdup(n->relname);
	if (payload != NULL)
		*payload = xstrdup(n->extra ? n->extra : "");
	PQfreemem(n);
	return true;
}

int
db_wait_notify(struct db *db, int timeout_ms, bool *got, char **channel,
	       char **payload, struct ikasq_err *err)
{
	struct pollfd pfd;
	int n;

	*got = false;
	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK)
		return err_set(err, IKASQ_ETEMP, "lost connection to %s",
		    db_describe(db));
	if (!PQconsumeInput(db->conn))
		goto broken;
	if ((*got = take_notify(db, channel, payload)))
		return IKASQ_OK;
	pfd.fd = PQsocket(db->conn);
	pfd.events = POLLIN;
	pfd.revents = 0;
	n = poll(&pfd, 1, timeout_ms);
	if (n < 0 && errno != EINTR)
		return err_set(err, IKASQ_EIO, "poll: %s", strerror(errno));
	if (n <= 0)
		return IKASQ_OK;
	if (!PQconsumeInput(db->conn))
		goto broken;
	*got = take_notify(db, channel, payload);
	return IKASQ_OK;
broken:
	{
		char line[800];

		one_line(line, sizeof(line), PQerrorMessage(db->conn));
		return err_set(err, IKASQ_ETEMP, "lost connection to %s: %s",
		    db_describe(db), line);
	}
}

int
db_ntuples(const struct db_res *res)
{
	return PQntuples(res->r);
}

int
db_nfields(const struct db_res *res)
{
	return PQnfields(res->r);
}

const char *
db_fname(const struct db_res *res, int col)
{
	return PQfname(res->r, col);
}

const char *
db_get(const struct db_res *res, int row, int col)
{
	return PQgetvalue(res->r, row, col);
}

bool
db_isnull(const struct db_res *res, int row, int col)
{
	return PQgetisnull(res->r, row, col) != 0;
}

long
db_affected(const struct db_res *res)
{
	const char *s = PQcmdTuples(res->r);

	return *s ? strtol(s, NULL, 10) : 0;
}

void
db_res_free(struct db_res *res)
{
	if (res == NULL)
		return;
	PQclear(res->r);
	free(res);
}

void
db_array_literal(struct strbuf *sb, const char *const *items, int n)
{
	int i;
	const char *p;

	sb_addc(sb, '{');
	for (i = 0; i < n; i++) {
		if (i > 0)
			sb_addc(sb, ',');
		if (items[i] == NULL) {
			sb_adds(sb, "NULL");
			continue;
		}
		sb_addc(sb, '"');
		for (p = items[i]; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				sb_addc(sb, '\\');
			sb_addc(sb, *p);
		}
		sb_addc(sb, '"');
	}
	sb_addc(sb, '}');
}
