/*
 * fetch.c - IMAP mailboxes into the ingest stage, once or as a daemon
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ikasq/config.h"
#include "ikasq/db.h"
#include "ikasq/extract.h"
#include "ikasq/fetch.h"
#include "ikasq/imap.h"
#include "ikasq/ingest.h"
#include "ikasq/log.h"

#define BATCH_BYTES_MAX (64u * 1024 * 1024)
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS (5 * 60 * 1000)

volatile sig_atomic_t fetch_stop;

struct account {
	char *name;
	char *group;		/* "imap:NAME" */
	struct imap_account conn;
	bool allow_plaintext;
	char **mailboxes;
	int after;		/* 0 none, 1 seen, 2 move */
	char *move_to;
	int batch;
	int64_t poll_ms, keepalive_ms;
};

struct sync_ctx {
	const struct config *cfg;
	struct db *db;
	const struct extractor *x;
	struct ingest_opts opts;
	struct fetch_totals *t;
};

static bool
loopback(const char *host)
{
	return strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0 ||
	    strncmp(host, "127.", 4) == 0;
}

static void
account_release(struct account *a)
{
	free(a->name);
	free(a->group);
	strv_free(a->mailboxes);
	free(a->move_to);
	memset(a, 0, sizeof(*a));
}

/* Read and check [imap:NAME]; the secret is fetched when connecting. */
static int
account_load(const struct config *cfg, const char *name, struct account *a,
	     struct ikasq_err *err)
{
	const char *g, *tls, *auth, *after, *host, *user;

	memset(a, 0, sizeof(*a));
	a->name = xstrdup(name);
	a->group = xasprintf("imap:%s", name);
	g = a->group;
	host = config_str(cfg, g, "host");
	user = config_str(cfg, g, "user");
	if (host == NULL || *host == '\0')
		return err_set(err, IKASQ_ECONFIG, "[%s] has no 'host'", g);
	if (user == NULL || *user == '\0')
		return err_set(err, IKASQ_ECONFIG, "[%s] has no 'user'", g);
	tls = config_str(cfg, g, "tls");
	auth = config_str(cfg, g, "auth");
	a->conn.name = a->name;
	a->conn.host = host;
	a->conn.user = user;
	a->conn.tls = strcmp(tls, "starttls") == 0 ? IMAP_TLS_STARTTLS :
	    strcmp(tls, "none") == 0 ? IMAP_TLS_NONE : IMAP_TLS_IMAPS;
	a->conn.auth = strcmp(auth, "plain") == 0 ? IMAP_AUTH_PLAIN :
	    strcmp(auth, "xoauth2") == 0 ? IMAP_AUTH_XOAUTH2 : IMAP_AUTH_LOGIN;
	a->conn.port = config_str(cfg, g, "port") ?
	    (int)config_int(cfg, g, "port") :
	    a->conn.tls == IMAP_TLS_IMAPS ? 993 : 143;
	a->conn.ca_file = config_str(cfg, g, "ca_file");
	a->conn.timeout_s = (int)config_duration(cfg, g, "timeout");
	a->allow_plaintext = config_bool(cfg, g, "allow_plaintext");
	if (a->conn.tls == IMAP_TLS_NONE && !loopback(host) &&
	    !a->allow_plaintext)
		return err_set(err, IKASQ_ECONFIG, "[%s]: tls = none would "
		    "send the password in clear text to '%s'; use imaps or "
		    "starttls, or set allow_plaintext = yes", g, host);
	a->mailboxes = config_list(cfg, g, "mailboxes");
	if (a->mailboxes[0] == NULL)
		return err_set(err, IKASQ_ECONFIG, "[%s]: 'mailboxes' names "
		    "no mailbox", g);
	after = config_str(cfg, g, "after_ingest");
	if (strcmp(after, "seen") == 0) {
		a->after = 1;
	} else if (strncmp(after, "move:", 5) == 0) {
		a->after = 2;
		a->move_to = xstrdup(after + 5);
	}
	a->batch = (int)config_int(cfg, g, "batch_size");
	a->poll_ms = config_duration(cfg, g, "poll_interval") * 1000;
	a->keepalive_ms = config_duration(cfg, g, "keepalive") * 1000;
	return IKASQ_OK;
}

static int
accounts_load(const struct config *cfg, const char *only,
	      struct account **out, int *n, struct ikasq_err *err)
{
	char **names = config_groups(cfg, "imap");
	struct account *v;
	int i, k = 0, rc = IKASQ_OK;

	for (i = 0; names[i] != NULL; i++)
		;
	v = xcalloc((size_t)i + 1, sizeof(*v));
	for (i = 0; names[i] != NULL && rc == IKASQ_OK; i++) {
		if (only != NULL && strcmp(only, names[i]) != 0)
			continue;
		rc = account_load(cfg, names[i], &v[k], err);
		k++;
	}
	strv_free(names);
	if (rc == IKASQ_OK && k == 0)
		rc = only ? err_set(err, IKASQ_ECONFIG, "no account [imap:%s] "
		    "in the configuration", only) :
		    err_set(err, IKASQ_ECONFIG, "no [imap:NAME] account in "
		    "the configuration");
	if (rc != IKASQ_OK) {
		for (i = 0; i < k; i++)
			account_release(&v[i]);
		free(v);
		return rc;
	}
	*out = v;
	*n = k;
	return IKASQ_OK;
}

int
fetch_check(const struct config *cfg, const char *only_account,
	    struct ikasq_err *err)
{
	struct account *accts;
	int n, i, rc;

	rc = accounts_load(cfg, only_account, &accts, &n, err);
	if (rc != IKASQ_OK)
		return rc;
	for (i = 0; i < n; i++)
		account_release(&accts[i]);
	free(accts);
	return IKASQ_OK;
}

static int
connect_account(const struct config *cfg, struct account *a,
		struct imap **im, struct ikasq_err *err)
{
	char *secret = NULL;
	int rc;

	rc = config_secret(cfg, a->group, a->conn.auth == IMAP_AUTH_XOAUTH2 ?
	    "oauth2_token" : "password", &secret, err);
	if (rc != IKASQ_OK)
		return err_prefix(err, "account '%s'", a->name);
	if (secret == NULL)
		return err_set(err, IKASQ_ECONFIG, "[%s] has no %s (set it, "
		    "its _command, or the environment)", a->group,
		    a->conn.auth == IMAP_AUTH_XOAUTH2 ? "oauth2_token" :
		    "password");
	a->conn.secret = secret;
	rc = imap_connect(&a->conn, im, err);
	a->conn.secret = NULL;
	explicit_bzero(secret, strlen(secret));
	free(secret);
	return rc;
}

/* Move the watermark (and record UIDVALIDITY), inside the transaction. */
static const char save_state_sql[] =
    "INSERT INTO imap_state (account, mailbox, uidvalidity, last_uid)"
    " VALUES ($1, $2, $3::bigint, $4::bigint)"
    " ON CONFLICT (account, mailbox) DO UPDATE SET"
    " uidvalidity = EXCLUDED.uidvalidity,"
    " last_uid = EXCLUDED.last_uid, updated_at = now()";

static int
save_state(struct db *db, const char *account, const char *mailbox,
	   uint32_t uidvalidity, uint32_t last_uid, struct ikasq_err *err)
{
	char v[16], u[16];
	const char *p[4] = { account, mailbox, v, u };

	snprintf(v, sizeof(v), "%u", uidvalidity);
	snprintf(u, sizeof(u), "%u", last_uid);
	return db_exec(db, save_state_sql, 4, p, NULL, err);
}

/* What ingest stores of a fetched message; returns its note, to free. */
static char *
msg_of(const struct sync_ctx *c, const struct imap_msg *m,
       struct ingest_msg *im)
{
	char *note = NULL;

	if (m->headers_only)
		note = xasprintf("message of %u bytes is over the limit of "
		    "%zu; only its headers were read", m->size,
		    c->opts.max_size);
	im->raw = m->data;
	im->len = m->len;
	im->note = note;
	im->size = m->size;
	return note;
}

static void
count(struct fetch_totals *add, const struct ingest_result *r)
{
	add->fetched++;
	if (r->duplicate)
		add->duplicates++;
	else
		add->stored++;
	add->jobs += r->job_id[0] != '\0';
}

/*
 * The batch and the watermark in one transaction, pipelined: each mail's
 * statement goes to the server as soon as it is parsed, so PostgreSQL
 * stores one while ikasq parses the next, and the batch costs one round
 * trip instead of one per mail.  *n and *upto say how far it got (less
 * than the batch when told to stop).
 */
static int
store_pipelined(struct sync_ctx *c, struct account *a, const char *box,
		uint32_t uidvalidity, struct imap_msg *m, size_t nm,
		size_t *n, uint32_t *upto, struct fetch_totals *add,
		struct ikasq_err *err)
{
	struct ingest_result *r;
	size_t i;
	char v[16], u[16];
	const char *sp[4] = { a->name, box, v, u };
	int rc, at;

	if ((rc = ingest_batch_begin(c->db, err)) != IKASQ_OK)
		return rc;
	for (i = 0; i < nm && rc == IKASQ_OK; i++) {
		struct ingest_msg im;
		char *note;

		if (fetch_stop) {
			/* finish here: the watermark stops before this one */
			*upto = m[i].uid - 1;
			break;
		}
		note = msg_of(c, &m[i], &im);
		rc = ingest_batch_add(c->db, c->x, &c->opts, &im, err);
		free(note);
		if (rc != IKASQ_OK)
			err_prefix(err, "%s/%s UID %u", a->name, box,
			    m[i].uid);
	}
	*n = i;
	snprintf(v, sizeof(v), "%u", uidvalidity);
	snprintf(u, sizeof(u), "%u", *upto);
	if (rc == IKASQ_OK)
		rc = db_pipe_send(c->db, save_state_sql, 4, sp, NULL, NULL,
		    err);
	r = xcalloc(*n + 1, sizeof(*r));
	rc = ingest_batch_end(c->db, rc, *n, 1, r, &at, err);
	if (at >= 0)
		err_prefix(err, "%s/%s UID %u", a->name, box, m[at].uid);
	for (i = 0; i < *n && rc == IKASQ_OK; i++)
		count(add, &r[i]);
	free(r);
	return rc;
}

/*
 * The server refused something in the batch: store its mails one
 * transaction each.  One that is refused again is left on the IMAP server,
 * said loudly and passed over (the watermark moves past it; it is not
 * marked or moved), so that it does not hold back every mail after it.
 */
static int
store_singly(struct sync_ctx *c, struct account *a, const char *box,
	     uint32_t uidvalidity, struct imap_msg *m, size_t n,
	     uint32_t upto, uint32_t *refused, size_t *nrefused,
	     struct fetch_totals *add, struct ikasq_err *err)
{
	struct ingest_result r;
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		struct ingest_msg im;
		char *note = msg_of(c, &m[i], &im);

		rc = ingest_one(c->db, c->x, &im, &c->opts, &r, err);
		free(note);
		if (err_systemic(rc))
			return err_prefix(err, "%s/%s UID %u", a->name, box,
			    m[i].uid);
		if (rc != IKASQ_OK) {
			log_error("%s/%s UID %u: not stored, left on the "
			    "server: %s", a->name, box, m[i].uid, err->msg);
			refused[(*nrefused)++] = m[i].uid;
			add->fetched++;
			add->refused++;
			continue;
		}
		count(add, &r);
	}
	return save_state(c->db, a->name, box, uidvalidity, upto, err);
}

/* Store one batch and move the watermark. */
static int
store_batch(struct sync_ctx *c, struct account *a, const char *box,
	    uint32_t uidvalidity, struct imap_msg *m, size_t nm,
	    uint32_t batch_last, uint32_t *stored_upto, uint32_t *refused,
	    size_t *nrefused, struct ikasq_err *err)
{
	struct fetch_totals add;
	uint32_t upto = batch_last;
	size_t n = 0;
	int rc;

	memset(&add, 0, sizeof(add));
	*nrefused = 0;
	rc = store_pipelined(c, a, box, uidvalidity, m, nm, &n, &upto, &add,
	    err);
	if (rc != IKASQ_OK && !err_systemic(rc)) {
		log_warn("%s; storing that batch one mail at a time",
		    err->msg);
		memset(&add, 0, sizeof(add));
		rc = store_singly(c, a, box, uidvalidity, m, n, upto, refused,
		    nrefused, &add, err);
	}
	if (rc != IKASQ_OK)
		return rc;
	/* counted once committed: a rolled-back batch stored nothing */
	c->t->fetched += add.fetched;
	c->t->duplicates += add.duplicates;
	c->t->stored += add.stored;
	c->t->jobs += add.jobs;
	c->t->refused += add.refused;
	*stored_upto = upto;
	return IKASQ_OK;
}

/*
 * Fetch what is new in one mailbox.  The caller holds a connection; the
 * mailbox lock keeps two ikasq processes from fetching it at once.
 */
static int
sync_mailbox(struct sync_ctx *c, struct account *a, struct imap *im,
	     const char *box, uint32_t *selected, struct ikasq_err *err)
{
	struct db_res *res = NULL;
	/* the schema too: two ikasq installations may share a database */
	char *key = xasprintf("ikasq.imap:%s:%s/%s", db_schema(c->db),
	    a->name, box);
	const char *p[2] = { a->name, box };
	uint32_t uidvalidity, uidnext, exists, last = 0, *uids = NULL;
	uint32_t *sizes = NULL;
	size_t n = 0, i;
	char *source;
	int rc;

	rc = db_exec(c->db, "SELECT pg_try_advisory_lock(hashtextextended("
	    "$1, 0))", 1, (const char *[]){ key }, &res, err);
	if (rc != IKASQ_OK) {
		free(key);
		return rc;
	}
	if (strcmp(db_get(res, 0, 0), "t") != 0) {
		db_res_free(res);
		free(key);
		log_info("%s/%s: another ikasq fetch is working on it; "
		    "skipped", a->name, box);
		return IKASQ_OK;
	}
	db_res_free(res);
	res = NULL;
	c->t->mailboxes++;
	if (selected != NULL && *selected != 0) {
		/* the daemon's mailbox is still open after IDLE: opening it
		 * again costs the server tens of ms on a large one */
		uidvalidity = *selected;
		uidnext = 0;
	} else {
		rc = imap_select(im, box, a->after == 0, &uidvalidity,
		    &uidnext, &exists, err);
		if (rc != IKASQ_OK)
			goto out;
		if (selected != NULL)
			*selected = uidvalidity;
	}
	rc = db_exec(c->db, "SELECT uidvalidity, last_uid FROM imap_state"
	    " WHERE account = $1 AND mailbox = $2", 2, p, &res, err);
	if (rc != IKASQ_OK)
		goto out;
	if (db_ntuples(res) == 1) {
		uint32_t old = (uint32_t)strtoul(db_get(res, 0, 0), NULL, 10);

		if (old == uidvalidity) {
			last = (uint32_t)strtoul(db_get(res, 0, 1), NULL, 10);
		} else {
			log_warn("%s/%s: UIDVALIDITY changed (%u -> %u): "
			    "looking at every message again; those stored "
			    "already are recognised", a->name, box, old,
			    uidvalidity);
		}
	}
	db_res_free(res);
	res = NULL;
	if (uidnext != 0 && uidnext - 1 <= last && last != 0)
		goto out;	/* nothing new, and no need to ask */
	rc = imap_new_uids(im, last, &uids, &n, err);
	if (rc != IKASQ_OK)
		goto out;
	if (n == 0) {
		if (last == 0)	/* remember the UIDVALIDITY we saw */
			rc = save_state(c->db, a->name, box, uidvalidity, 0,
			    err);
		goto out;
	}
	log_info("%s/%s: %zu new", a->name, box, n);
	source = xasprintf("imap:%s/%s", a->name, box);
	c->opts.source = source;
	sizes = xcalloc(n, sizeof(*sizes));
	for (i = 0; i < n && rc == IKASQ_OK && !fetch_stop;) {
		size_t k, cnt = (size_t)a->batch < n - i ? (size_t)a->batch :
		    n - i, bytes = 0, nsmall = 0, nbig = 0, j;
		uint32_t *small, *big, upto = 0;
		struct imap_msg *ms = NULL, *mb = NULL, *all;
		size_t nms = 0, nmb = 0, na, nrefused = 0;
		uint32_t *refused;

		rc = imap_sizes(im, uids + i, cnt, sizes + i, err);
		if (rc != IKASQ_OK)
			break;
		/* a batch is also bounded by bytes, so memory stays flat */
		for (k = 0; k < cnt; k++) {
			if (k > 0 && bytes + sizes[i + k] > BATCH_BYTES_MAX)
				break;
			if (sizes[i + k] <= c->opts.max_size)
				bytes += sizes[i + k];
		}
		cnt = k;
		small = xcalloc(cnt, sizeof(*small));
		big = xcalloc(cnt, sizeof(*big));
		for (k = 0; k < cnt; k++) {
			if (sizes[i + k] > c->opts.max_size)
				big[nbig++] = uids[i + k];
			else
				small[nsmall++] = uids[i + k];
		}
		rc = imap_fetch(im, small, nsmall, false, &ms, &nms, err);
		if (rc == IKASQ_OK)
			rc = imap_fetch(im, big, nbig, true, &mb, &nmb, err);
		if (rc == IKASQ_OK) {
			/* both lists are in UID order: merge them */
			all = xcalloc(nms + nmb + 1, sizeof(*all));
			for (k = j = na = 0; k < nms || j < nmb;)
				all[na++] = j >= nmb || (k < nms &&
				    ms[k].uid < mb[j].uid) ? ms[k++] : mb[j++];
			for (k = 0; k < na; k++)
				if (all[k].headers_only)
					all[k].size = sizes[i + u32_search(uids +
					    i, cnt, all[k].uid)];
			refused = xcalloc(na + 1, sizeof(*refused));
			rc = store_batch(c, a, box, uidvalidity, all, na,
			    uids[i + cnt - 1], &upto, refused, &nrefused, err);
			if (rc == IKASQ_OK && a->after != 0 && upto > 0) {
				/* what was stored; a refused mail stays */
				uint32_t *done = xcalloc(cnt, sizeof(*done));
				size_t m, nd = 0, r;

				for (m = 0; m < cnt && uids[i + m] <= upto;
				    m++) {
					for (r = 0; r < nrefused &&
					    refused[r] != uids[i + m]; r++)
						;
					if (r == nrefused)
						done[nd++] = uids[i + m];
				}
				rc = a->after == 1 ?
				    imap_mark_seen(im, done, nd, err) :
				    imap_move(im, done, nd, a->move_to, err);
				free(done);
				if (rc != IKASQ_OK) {
					/* stored already: say so, go on */
					log_warn("%s/%s: %s", a->name, box,
					    err->msg);
					rc = IKASQ_OK;
				}
			}
			free(all);
			free(refused);
		}
		imap_msgs_free(ms, nms);
		imap_msgs_free(mb, nmb);
		free(small);
		free(big);
		i += cnt;
	}
	c->opts.source = NULL;
	free(source);
out:
	db_res_free(res);
	{
		struct ikasq_err e2;

		db_exec(c->db, "SELECT pg_advisory_unlock(hashtextextended("
		    "$1, 0))", 1, (const char *[]){ key }, NULL, &e2);
	}
	free(key);
	free(uids);
	free(sizes);
	return rc;
}

static int
worse(int a, int b)
{
	/* "try again" matters most for cron; then anything over nothing */
	if (a == IKASQ_ETEMP || b == IKASQ_ETEMP)
		return IKASQ_ETEMP;
	return a != IKASQ_OK ? a : b;
}

static void
sync_init(struct sync_ctx *c, const struct config *cfg, struct db *db,
	  const struct extractor *x, struct fetch_totals *t)
{
	memset(c, 0, sizeof(*c));
	c->cfg = cfg;
	c->db = db;
	c->x = x;
	c->t = t;
	c->opts.priority = (int)config_int(cfg, "ingest", "priority");
	c->opts.max_attempts = (int)config_int(cfg, "queue", "max_attempts");
	c->opts.max_size = (size_t)config_size(cfg, "ingest", "max_size");
	c->opts.raw_dir = config_str(cfg, "ingest", "raw_dir");
}

int
fetch_once(const struct config *cfg, struct db *db, const struct extractor *x,
	   const char *only_account, struct fetch_totals *t,
	   struct ikasq_err *err)
{
	struct account *accts;
	struct sync_ctx c;
	struct ikasq_err e;
	int n, i, j, rc, worst = IKASQ_OK;

	memset(t, 0, sizeof(*t));
	rc = accounts_load(cfg, only_account, &accts, &n, err);
	if (rc != IKASQ_OK)
		return rc;
	sync_init(&c, cfg, db, x, t);
	for (i = 0; i < n && !fetch_stop; i++) {
		struct imap *im = NULL;

		err_clear(&e);
		rc = connect_account(cfg, &accts[i], &im, &e);
		if (rc != IKASQ_OK) {
			log_error("%s", e.msg);
			if (worst == IKASQ_OK || rc == IKASQ_ETEMP)
				*err = e;
			worst = worse(worst, rc);
			continue;
		}
		log_debug("%s: connected to '%s:%d'%s", accts[i].name,
		    accts[i].conn.host, accts[i].conn.port,
		    accts[i].conn.tls == IMAP_TLS_NONE ? " (no TLS)" :
		    " (certificate verified)");
		for (j = 0; accts[i].mailboxes[j] != NULL && !fetch_stop; j++) {
			err_clear(&e);
			rc = sync_mailbox(&c, &accts[i], im,
			    accts[i].mailboxes[j], NULL, &e);
			if (rc == IKASQ_OK)
				continue;
			log_error("%s", e.msg);
			if (worst == IKASQ_OK || rc == IKASQ_ETEMP)
				*err = e;
			worst = worse(worst, rc);
			/* the connection is gone: the other mailboxes of this
			 * account wait for the next run */
			if (rc == IKASQ_ETEMP)
				break;
		}
		imap_close(im);
	}
	for (i = 0; i < n; i++)
		account_release(&accts[i]);
	free(accts);
	return worst;
}

/* One mailbox of the daemon: its own connection, idling. */
struct slot {
	struct account *a;
	const char *box;
	struct imap *im;
	bool idling;
	uint32_t uidvalidity;	/* of the open mailbox; 0: not open yet */
	int64_t next_ms;	/* reconnect, keep-alive or poll, whichever */
	int64_t backoff_ms;
	bool said_idle;
};

static void
slot_drop(struct slot *s, const char *why)
{
	int64_t wait = s->backoff_ms;

	imap_close(s->im);
	s->im = NULL;
	s->idling = false;
	s->uidvalidity = 0;
	s->next_ms = now_ms() + wait;
	s->backoff_ms = s->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
	    s->backoff_ms * 2;
	log_warn("%s/%s: %s; reconnecting in %lld s", s->a->name, s->box,
	    why, (long long)(wait + 999) / 1000);
}

/* Fetch what is new and go back to waiting: IDLE, or a poll later. */
static int
slot_sync(struct sync_ctx *c, struct slot *s, struct ikasq_err *err)
{
	long before = c->t->stored + c->t->duplicates;
	int rc;

	if (s->idling) {
		s->idling = false;
		if ((rc = imap_idle_done(s->im, err)) != IKASQ_OK)
			return rc;
	}
	rc = sync_mailbox(c, s->a, s->im, s->box, &s->uidvalidity, err);
	if (rc != IKASQ_OK)
		return rc;
	if (c->t->stored + c->t->duplicates > before)
		log_info("%s/%s: ingested %ld", s->a->name, s->box,
		    c->t->stored + c->t->duplicates - before);
	if (fetch_stop)
		return IKASQ_OK;
	if (imap_can_idle(s->im)) {
		if ((rc = imap_idle_start(s->im, err)) != IKASQ_OK)
			return rc;
		s->idling = true;
		/* DONE and IDLE again often: it proves the connection is
		 * alive (a cut one is noticed within a minute) and renews
		 * IDLE long before the 29 minutes of RFC 2177 */
		s->next_ms = now_ms() + s->a->keepalive_ms;
		if (!s->said_idle)
			log_info("%s/%s: waiting for new mail (IDLE)",
			    s->a->name, s->box);
	} else {
		s->next_ms = now_ms() + s->a->poll_ms;
		if (!s->said_idle)
			log_info("%s/%s: the server has no IDLE; checking "
			    "every %lld s", s->a->name, s->box,
			    (long long)s->a->poll_ms / 1000);
	}
	s->said_idle = true;
	return IKASQ_OK;
}

int
fetch_idle(const struct config *cfg, struct db *db, const struct extractor *x,
	   const char *only_account, struct ikasq_err *err)
{
	struct fetch_totals t;
	struct account *accts;
	struct sync_ctx c;
	struct slot *slots;
	struct pollfd *pfd;
	int n, i, j, ns = 0, rc;

	memset(&t, 0, sizeof(t));
	rc = accounts_load(cfg, only_account, &accts, &n, err);
	if (rc != IKASQ_OK)
		return rc;
	sync_init(&c, cfg, db, x, &t);
	for (i = 0; i < n; i++)
		for (j = 0; accts[i].mailboxes[j] != NULL; j++)
			ns++;
	slots = xcalloc((size_t)ns, sizeof(*slots));
	pfd = xcalloc((size_t)ns, sizeof(*pfd));
	for (i = 0, ns = 0; i < n; i++)
		for (j = 0; accts[i].mailboxes[j] != NULL; j++) {
			slots[ns].a = &accts[i];
			slots[ns].box = accts[i].mailboxes[j];
			slots[ns].backoff_ms = BACKOFF_MIN_MS;
			ns++;
		}
	while (!fetch_stop) {
		int64_t now = now_ms(), wake = now + 60000;
		int np = 0, *which = xcalloc((size_t)ns, sizeof(int));

		for (i = 0; i < ns && !fetch_stop; i++) {
			struct slot *s = &slots[i];
			struct ikasq_err e;

			err_clear(&e);
			if (s->im == NULL && now >= s->next_ms) {
				rc = connect_account(cfg, s->a, &s->im, &e);
				if (rc == IKASQ_ECONFIG) {
					*err = e;
					free(which);
					goto out;
				}
				if (rc != IKASQ_OK) {
					s->im = NULL;
					slot_drop(s, e.msg);
				} else {
					log_info("%s/%s: connected to "
					    "'%s:%d'", s->a->name, s->box,
					    s->a->conn.host, s->a->conn.port);
					s->said_idle = false;
					s->next_ms = now;
				}
			}
			if (s->im != NULL && (now >= s->next_ms ||
			    (s->idling && imap_idle_pending(s->im)))) {
				rc = slot_sync(&c, s, &e);
				if (rc == IKASQ_OK) {
					s->backoff_ms = BACKOFF_MIN_MS;
				} else {
					slot_drop(s, e.msg);
					/* the database may be what broke */
					if (rc == IKASQ_ETEMP)
						db_reconnect(db, &e);
				}
			}
			if (s->next_ms < wake)
				wake = s->next_ms;
			if (s->im != NULL && s->idling) {
				pfd[np].fd = imap_idle_fd(s->im);
				pfd[np].events = POLLIN;
				pfd[np].revents = 0;
				which[np++] = i;
			}
		}
		if (fetch_stop) {
			free(which);
			break;
		}
		now = now_ms();
		rc = poll(pfd, (nfds_t)np, wake > now ? (int)(wake - now) : 0);
		for (j = 0; rc > 0 && j < np && !fetch_stop; j++) {
			struct slot *s = &slots[which[j]];
			struct ikasq_err e;

			if (pfd[j].revents == 0)
				continue;
			err_clear(&e);
			/* the server spoke: new mail, or a goodbye */
			if (slot_sync(&c, s, &e) != IKASQ_OK)
				slot_drop(s, e.msg);
			else
				s->backoff_ms = BACKOFF_MIN_MS;
		}
		free(which);
	}
	rc = IKASQ_OK;
out:
	for (i = 0; i < ns; i++)
		imap_close(slots[i].im);
	free(slots);
	free(pfd);
	for (i = 0; i < n; i++)
		account_release(&accts[i]);
	free(accts);
	log_info("stopped: %ld new mails stored", t.stored);
	return rc;
}
