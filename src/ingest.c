/*
 * ingest.c - store a mail and queue its order lookup, in one transaction
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <jansson.h>

#include "ikasq/db.h"
#include "ikasq/extract.h"
#include "ikasq/ingest.h"
#include "ikasq/queue.h"

/* A parsed message, ready to store (parse and extract: no database). */
struct ingest_item {
	struct mail mail;
	struct order_match *orders;
	int norders;
};

static void
ingest_prepare(const struct extractor *x, const char *raw, size_t len,
	       const struct ingest_opts *o, struct ingest_item *it)
{
	memset(it, 0, sizeof(*it));
	mime_parse(raw, len, o->max_size, &it->mail);
	extract_orders(x, it->mail.subject, it->mail.body, &it->orders,
	    &it->norders);
}

static void
ingest_item_release(struct ingest_item *it)
{
	mail_release(&it->mail);
	order_matches_free(it->orders, it->norders);
	memset(it, 0, sizeof(*it));
}

/* Write raw to DIR/ab/abcdef....eml durably, unless it is there already. */
static int
save_raw(const char *dir, const char *sha, const char *raw, size_t len,
	 char **path_out, struct ikasq_err *err)
{
	char *sub = xasprintf("%s/%.2s", dir, sha);
	char *path = xasprintf("%s/%s.eml", sub, sha);
	char *tmp = xasprintf("%s.%ld.tmp", path, (long)getpid());
	int fd = -1, rc = IKASQ_OK;
	size_t off = 0;

	if (access(path, F_OK) == 0)
		goto out;
	if (mkdir(sub, 0700) != 0 && errno != EEXIST) {
		rc = err_set(err, IKASQ_ETEMP, "cannot create '%s': %s", sub,
		    strerror(errno));
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = err_set(err, IKASQ_ETEMP, "cannot create '%s': %s", tmp,
		    strerror(errno));
		goto out;
	}
	while (off < len) {
		ssize_t n = write(fd, raw + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = err_set(err, IKASQ_ETEMP, "cannot write '%s': %s",
			    tmp, strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		rc = err_set(err, IKASQ_ETEMP, "cannot write '%s': %s", tmp,
		    strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		rc = err_set(err, IKASQ_ETEMP, "cannot rename '%s': %s", tmp,
		    strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	if (rc != IKASQ_OK)
		unlink(tmp);
	free(tmp);
	free(sub);
	if (rc == IKASQ_OK)
		*path_out = path;
	else
		free(path);
	return rc;
}

static char *
orders_json(const struct ingest_item *it, char **numbers_literal)
{
	struct strbuf arr = STRBUF_INIT;
	const char **nums;
	json_t *a = json_array();
	char *s, *out;
	int i;

	nums = xcalloc((size_t)it->norders + 1, sizeof(*nums));
	for (i = 0; i < it->norders; i++) {
		json_t *o = json_object();

		json_object_set_new(o, "order",
		    json_string(it->orders[i].order));
		json_object_set_new(o, "evidence",
		    json_string(it->orders[i].evidence));
		json_object_set_new(o, "where",
		    json_string(it->orders[i].where));
		json_array_append_new(a, o);
		nums[i] = it->orders[i].order;
	}
	sb_init(&arr);
	db_array_literal(&arr, nums, it->norders);
	*numbers_literal = sb_detach(&arr);
	free(nums);
	s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	out = xstrdup(s);
	free(s);
	return out;
}

static char *
job_payload(const char *mail_id, const struct ingest_item *it)
{
	const char **nums = xcalloc((size_t)it->norders + 1, sizeof(*nums));
	char *out;
	int i;

	for (i = 0; i < it->norders; i++)
		nums[i] = it->orders[i].order;
	out = fetch_job_payload(mail_id, it->mail.from_addr,
	    it->mail.subject, nums, it->norders);
	free(nums);
	return out;
}

/*
 * The mail and its job in one statement, so that a batch can be pipelined
 * (the job needs the mail's id, added to its payload and key here).  A
 * message stored already (the same bytes) changes nothing; its row's id is
 * still returned.  No dedupe conflict is possible: the key names the new
 * mail.
 */
static const char store_sql[] =
    "WITH m AS (INSERT INTO mails (message_id, sent_at, from_email,"
    " from_name, to_email, subject, in_reply_to, references_ids,"
    " body_text, order_numbers, orders, size_bytes, sha256, source, raw,"
    " raw_path, parse_error, note, received_at)"
    " VALUES ($1, $2::timestamptz, $3, $4, $5, $6, $7, $8, $9,"
    "  $10::text[], $11::jsonb, $12::bigint, $13, $14, $15::bytea,"
    "  $16, $17, $18, now())"
    " ON CONFLICT (sha256) DO NOTHING RETURNING id),"
    " j AS (INSERT INTO job_queue (job_type, payload, priority,"
    "  dedupe_key, max_attempts)"
    " SELECT '" FETCH_JOB_TYPE "',"
    "  $21::jsonb || jsonb_build_object('mail_id', m.id::text), $19::int,"
    "  '" FETCH_JOB_KEY_PREFIX "' || m.id::text, $20::int"
    " FROM m WHERE $21::jsonb IS NOT NULL RETURNING id)"
    " SELECT m.id, (SELECT id FROM j), true FROM m"
    " UNION ALL SELECT id, NULL, false FROM mails"
    "  WHERE sha256 = $13 AND NOT EXISTS (SELECT 1 FROM m)";

#define STORE_NPARAMS 21

struct store_params {
	const char *p[STORE_NPARAMS];
	int lengths[STORE_NPARAMS], binary[STORE_NPARAMS];
	char *orders, *numbers, *raw_path, *payload;
	char size[32], prio[16], maxa[16];
};

static int
store_params_init(struct store_params *sp, const struct ingest_item *it,
		  const char *raw, size_t len, const struct ingest_opts *o,
		  struct ikasq_err *err)
{
	const struct mail *m = &it->mail;
	int rc;

	memset(sp, 0, sizeof(*sp));
	if (o->raw_dir != NULL && *o->raw_dir != '\0') {
		rc = save_raw(o->raw_dir, m->sha256, raw, len, &sp->raw_path,
		    err);
		if (rc != IKASQ_OK)
			return rc;
	}
	sp->orders = orders_json(it, &sp->numbers);
	snprintf(sp->size, sizeof(sp->size), "%zu", m->size);
	snprintf(sp->prio, sizeof(sp->prio), "%d", o->priority);
	snprintf(sp->maxa, sizeof(sp->maxa), "%d",
	    o->max_attempts > 0 ? o->max_attempts : 3);
	sp->p[0] = m->message_id;
	sp->p[1] = m->date;
	sp->p[2] = m->from_addr;
	sp->p[3] = m->from_name;
	sp->p[4] = m->to;
	sp->p[5] = m->subject;
	sp->p[6] = m->in_reply_to;
	sp->p[7] = m->references;
	sp->p[8] = m->body;
	sp->p[9] = sp->numbers;
	sp->p[10] = sp->orders;
	sp->p[11] = sp->size;
	sp->p[12] = m->sha256;
	sp->p[13] = o->source;
	sp->p[14] = sp->raw_path ? NULL : raw;
	sp->lengths[14] = sp->raw_path ? 0 : (int)len;
	sp->binary[14] = 1;
	sp->p[15] = sp->raw_path;
	sp->p[16] = m->parse_error;
	sp->p[17] = m->note;
	sp->p[18] = sp->prio;
	sp->p[19] = sp->maxa;
	/* no job for a mail that names no order */
	if (it->norders > 0)
		sp->payload = job_payload(NULL, it);
	sp->p[20] = sp->payload;
	return IKASQ_OK;
}

static void
store_params_release(struct store_params *sp)
{
	free(sp->orders);
	free(sp->numbers);
	free(sp->raw_path);
	free(sp->payload);
}

/* Parse it; a message fetched by its headers only keeps the caller's note
 * and its real size. */
static void
prepare_msg(const struct extractor *x, const struct ingest_msg *m,
	    const struct ingest_opts *o, struct ingest_item *it)
{
	ingest_prepare(x, m->raw, m->len, o, it);
	if (m->note != NULL) {
		free(it->mail.note);
		it->mail.note = xstrdup(m->note);
		it->mail.size = m->size;
	}
}

static void
result_read(const struct db_res *res, struct ingest_result *r)
{
	memset(r, 0, sizeof(*r));
	if (res == NULL || db_ntuples(res) != 1) {
		/* the same bytes, stored by a transaction that committed
		 * after this statement began: nothing was written */
		r->duplicate = true;
		return;
	}
	snprintf(r->mail_id, sizeof(r->mail_id), "%s", db_get(res, 0, 0));
	r->duplicate = strcmp(db_get(res, 0, 2), "t") != 0;
	if (!db_isnull(res, 0, 1))
		snprintf(r->job_id, sizeof(r->job_id), "%s", db_get(res, 0,
		    1));
}

int
ingest_batch_begin(struct db *db, struct ikasq_err *err)
{
	struct ikasq_err e2;
	int rc, at;

	if ((rc = db_pipe_begin(db, err)) != IKASQ_OK)
		return rc;
	if ((rc = db_pipe_send(db, "BEGIN", 0, NULL, NULL, NULL, err)) !=
	    IKASQ_OK)
		db_pipe_end(db, NULL, &at, &e2);
	return rc;
}

int
ingest_batch_add(struct db *db, const struct extractor *x,
		 const struct ingest_opts *o, const struct ingest_msg *m,
		 struct ikasq_err *err)
{
	struct ingest_item it;
	struct store_params sp;
	int rc;

	prepare_msg(x, m, o, &it);
	if ((rc = store_params_init(&sp, &it, m->raw, m->len, o, err)) ==
	    IKASQ_OK)
		rc = db_pipe_send(db, store_sql, STORE_NPARAMS, sp.p,
		    sp.lengths, sp.binary, err);
	store_params_release(&sp);
	ingest_item_release(&it);
	return rc;
}

int
ingest_batch_end(struct db *db, int rc, size_t n, int extra,
		 struct ingest_result *r, int *at, struct ikasq_err *err)
{
	struct db_res **res;
	struct ikasq_err e2;
	size_t i, nres = n + 2 + (size_t)extra;
	int failed;

	*at = -1;
	if (rc == IKASQ_OK)
		rc = db_pipe_send(db, "COMMIT", 0, NULL, NULL, NULL, err);
	if (rc != IKASQ_OK) {
		/* abandoned: what was sent is rolled back */
		db_pipe_end(db, NULL, &failed, &e2);
		db_rollback(db);
		return rc;
	}
	res = xcalloc(nres, sizeof(*res));
	rc = db_pipe_end(db, res, &failed, err);
	if (rc != IKASQ_OK) {
		db_rollback(db);
		if (failed >= 1 && (size_t)failed <= n)
			*at = failed - 1;
	}
	for (i = 0; i < n && rc == IKASQ_OK; i++)
		result_read(res[i + 1], &r[i]);
	for (i = 0; i < nres; i++)
		db_res_free(res[i]);
	free(res);
	return rc;
}

int
ingest_one(struct db *db, const struct extractor *x,
	   const struct ingest_msg *m, const struct ingest_opts *o,
	   struct ingest_result *r, struct ikasq_err *err)
{
	struct ingest_item it;
	struct store_params sp;
	struct db_res *res = NULL;
	int rc;

	memset(r, 0, sizeof(*r));
	prepare_msg(x, m, o, &it);
	if ((rc = store_params_init(&sp, &it, m->raw, m->len, o, err)) ==
	    IKASQ_OK) {
		if ((rc = db_begin(db, err)) == IKASQ_OK &&
		    (rc = db_exec_bin(db, store_sql, STORE_NPARAMS, sp.p,
		    sp.lengths, sp.binary, &res, err)) == IKASQ_OK)
			rc = db_commit(db, err);
		if (rc != IKASQ_OK)
			db_rollback(db);
	}
	store_params_release(&sp);
	if (rc == IKASQ_OK)
		result_read(res, r);
	db_res_free(res);
	ingest_item_release(&it);
	return rc;
}

int
ingest_reparse(struct db *db, const struct extractor *x, const char *mail_id,
	       const struct ingest_opts *o, int *norders, char job_id[37],
	       struct ikasq_err *err)
{
	struct strbuf raw = STRBUF_INIT;
	struct ingest_item it;
	struct db_res *res;
	const char *p[1] = { mail_id };
	char *orders, *numbers;
	int rc;

	*norders = 0;
	job_id[0] = '\0';
	rc = db_exec(db, "SELECT encode(raw, 'base64'), raw_path FROM mails"
	    " WHERE id = $1::uuid FOR UPDATE", 1, p, &res, err);
	if (rc != IKASQ_OK)
		return rc;
	if (db_ntuples(res) == 0) {
		db_res_free(res);
		return err_set(err, IKASQ_ENOTFOUND, "unknown mail '%s'",
		    mail_id);
	}
	sb_init(&raw);
	if (!db_isnull(res, 0, 0)) {
		gsize n = 0;
		guchar *b = g_base64_decode(db_get(res, 0, 0), &n);

		sb_add(&raw, b, n);
		g_free(b);
	} else if (db_isnull(res, 0, 1) ||
	    !read_file(db_get(res, 0, 1), &raw)) {
		rc = err_set(err, IKASQ_EDATA, "the raw message of mail '%s' "
		    "is not kept", mail_id);
	}
	db_res_free(res);
	if (rc != IKASQ_OK || raw.len == 0) {
		sb_release(&raw);
		return rc != IKASQ_OK ? rc : err_set(err, IKASQ_EDATA,
		    "the raw message of mail '%s' is empty", mail_id);
	}
	ingest_prepare(x, raw.buf, raw.len, o, &it);
	orders = orders_json(&it, &numbers);
	{
		const char *q[7] = { mail_id, it.mail.subject, it.mail.body,
		    numbers, orders, it.mail.parse_error, it.mail.from_addr };

		rc = db_exec(db, "UPDATE mails SET subject = $2, body_text = $3,"
		    " order_numbers = $4::text[], orders = $5::jsonb,"
		    " parse_error = $6, from_email = coalesce($7, from_email),"
		    " updated_at = now() WHERE id = $1::uuid", 7, q, NULL, err);
	}
	free(orders);
	free(numbers);
	*norders = it.norders;
	if (rc == IKASQ_OK && it.norders > 0) {
		struct job_spec spec;
		char *payload = job_payload(mail_id, &it);
		char *key = xasprintf(FETCH_JOB_KEY_PREFIX "%s", mail_id);

		memset(&spec, 0, sizeof(spec));
		spec.type = FETCH_JOB_TYPE;
		spec.payload = payload;
		spec.priority = o->priority;
		spec.dedupe_key = key;
		spec.max_attempts = o->max_attempts;
		rc = queue_enqueue(db, &spec, job_id, NULL, err);
		free(payload);
		free(key);
	}
	ingest_item_release(&it);
	sb_release(&raw);
	return rc;
}
