/*
 * imap.c - IMAP with libetpan (the only file that includes it)
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libetpan/libetpan.h>

#include "ikasq/imap.h"
#include "ikasq/tls.h"
#include "ikasq/util.h"

struct imap {
	mailimap *s;
	char *where;		/* "'host:port'" for messages */
	bool idling;
	bool broken;		/* the connection failed: no LOGOUT */
	/* the stream's driver, with a read that turns end of file into an
	 * error (see guard_eof) */
	mailstream_low_driver guarded;
	mailstream_low_driver *orig;
};

/*
 * libetpan 1.9.4 reads a literal in a loop that stops only on -1; when the
 * server closes the connection in the middle of one, read() returns 0
 * forever and ikasq would spin at full CPU, holding its mailbox lock.  For
 * IMAP an end of file is always an error, so the low-level read says so.
 */
static ssize_t
guarded_read(mailstream_low *low, void *buf, size_t n)
{
	struct imap *im = (struct imap *)((char *)low->driver -
	    offsetof(struct imap, guarded));
	ssize_t r = im->orig->mailstream_read(low, buf, n);

	return r == 0 && n > 0 ? -1 : r;
}

static void
guard_eof(struct imap *im)
{
	mailstream_low *low;

	if (im->s->imap_stream == NULL)
		return;
	low = mailstream_get_low(im->s->imap_stream);
	if (low == NULL || low->driver == &im->guarded)
		return;
	im->orig = low->driver;
	im->guarded = *low->driver;
	im->guarded.mailstream_read = guarded_read;
	low->driver = &im->guarded;
}

/* The server's last words, trimmed, for a message. */
static const char *
said(struct imap *im)
{
	static char buf[300];
	const char *r = im->s ? im->s->imap_response : NULL;
	size_t n;

	if (r == NULL || *r == '\0')
		return "";
	snprintf(buf, sizeof(buf), ": %s", r);
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\r' || buf[n - 1] == '\n'))
		buf[--n] = '\0';
	return buf;
}

/* Map a libetpan result to ours, with a message saying what was done. */
static int
fail(struct imap *im, int r, const char *what, struct ikasq_err *err)
{
	switch (r) {
	case MAILIMAP_ERROR_STREAM:
	case MAILIMAP_ERROR_CONNECTION_REFUSED:
	case MAILIMAP_ERROR_PARSE:
	case MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION:
	case MAILIMAP_ERROR_FATAL:
	case MAILIMAP_ERROR_MEMORY:
	case MAILIMAP_ERROR_SSL:
	case MAILIMAP_ERROR_BAD_STATE:
		im->broken = true;
		return err_set(err, IKASQ_ETEMP, "%s %s: %s", what, im->where,
		    r == MAILIMAP_ERROR_CONNECTION_REFUSED ? "connection "
		    "refused or host unreachable" : r == MAILIMAP_ERROR_PARSE ?
		    "the connection broke off, or the server sent something "
		    "that is not IMAP" :
		    r == MAILIMAP_ERROR_SSL ? "TLS handshake failed" :
		    r == MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION ? "the server "
		    "refused the connection" : "the connection was closed or "
		    "timed out");
	case MAILIMAP_ERROR_LOGIN:
	case MAILIMAP_ERROR_SASL:
		return err_set(err, IKASQ_EPERM, "%s %s: login refused%s", what,
		    im->where, said(im));
	default:
		return err_set(err, IKASQ_ETEMP, "%s %s: the server said no%s",
		    what, im->where, said(im));
	}
}

static void
set_sni(struct mailstream_ssl_context *ctx, void *host)
{
	mailstream_ssl_set_server_name(ctx, host);
}

/* The chain the server presented, checked before any secret is sent. */
static int
verify(struct imap *im, const struct imap_account *a, struct ikasq_err *err)
{
	carray *chain = mailstream_get_certificate_chain(im->s->imap_stream);
	const unsigned char **der;
	size_t *len, n, i;
	int rc;

	if (chain == NULL)
		return err_set(err, IKASQ_EUNAVAIL, "cannot verify %s: no "
		    "certificate was received", im->where);
	n = carray_count(chain);
	der = xcalloc(n + 1, sizeof(*der));
	len = xcalloc(n + 1, sizeof(*len));
	for (i = 0; i < n; i++) {
		MMAPString *s = carray_get(chain, (unsigned)i);

		der[i] = (const unsigned char *)s->str;
		len[i] = s->len;
	}
	rc = tls_verify(der, len, n, a->host, a->ca_file, err);
	if (rc != IKASQ_OK)
		err_prefix(err, "cannot connect to %s: certificate not "
		    "trusted", im->where);
	for (i = 0; i < n; i++)
		mmap_string_free(carray_get(chain, (unsigned)i));
	carray_free(chain);
	free(der);
	free(len);
	return rc;
}

static int
login(struct imap *im, const struct imap_account *a, struct ikasq_err *err)
{
	int r;

	switch (a->auth) {
	case IMAP_AUTH_XOAUTH2:
		if (!mailimap_has_xoauth2(im->s))
			return err_set(err, IKASQ_EUNAVAIL, "cannot log in to "
			    "%s: the server does not offer XOAUTH2", im->where);
		r = mailimap_oauth2_authenticate(im->s, a->user, a->secret);
		break;
	case IMAP_AUTH_PLAIN:
		r = mailimap_authenticate(im->s, "PLAIN", a->host, NULL, NULL,
		    a->user, a->user, a->secret, NULL);
		break;
	default:
		r = mailimap_login(im->s, a->user, a->secret);
		break;
	}
	if (r != MAILIMAP_NO_ERROR) {
		if (r == MAILIMAP_ERROR_STREAM || r == MAILIMAP_ERROR_PARSE)
			return fail(im, r, "cannot log in to", err);
		return err_set(err, IKASQ_EPERM, "cannot log in to %s as '%s': "
		    "login refused%s", im->where, a->user, said(im));
	}
	return IKASQ_OK;
}

static void
refresh_capabilities(struct imap *im)
{
	struct mailimap_capability_data *cap = NULL;

	if (mailimap_capability(im->s, &cap) == MAILIMAP_NO_ERROR &&
	    cap != NULL)
		mailimap_capability_data_free(cap);
}

int
imap_connect(const struct imap_account *a, struct imap **out,
	     struct ikasq_err *err)
{
	struct imap *im = xcalloc(1, sizeof(*im));
	int r, rc;

	*out = NULL;
	im->where = xasprintf("'%s:%d'", a->host, a->port);
	im->s = mailimap_new(0, NULL);
	mailimap_set_timeout(im->s, a->timeout_s > 0 ? a->timeout_s : 30);
	if (a->tls == IMAP_TLS_IMAPS)
		r = mailimap_ssl_connect_with_callback(im->s, a->host,
		    (uint16_t)a->port, set_sni, (void *)a->host);
	else
		r = mailimap_socket_connect(im->s, a->host, (uint16_t)a->port);
	if (r != MAILIMAP_NO_ERROR_AUTHENTICATED &&
	    r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED) {
		rc = fail(im, r, "cannot connect to", err);
		goto bad;
	}
	guard_eof(im);
	if (a->tls == IMAP_TLS_STARTTLS) {
		r = mailimap_socket_starttls_with_callback(im->s, set_sni,
		    (void *)a->host);
		if (r != MAILIMAP_NO_ERROR) {
			rc = r == MAILIMAP_ERROR_STREAM ||
			    r == MAILIMAP_ERROR_SSL ?
			    fail(im, r, "cannot start TLS with", err) :
			    err_set(err, IKASQ_EUNAVAIL, "cannot start TLS "
			    "with %s: the server refused STARTTLS%s",
			    im->where, said(im));
			goto bad;
		}
		guard_eof(im);	/* STARTTLS put a new stream in place */
	}
	if (a->tls != IMAP_TLS_NONE &&
	    (rc = verify(im, a, err)) != IKASQ_OK)
		goto bad;
	/* capabilities again: they change after STARTTLS and login */
	refresh_capabilities(im);
	if ((rc = login(im, a, err)) != IKASQ_OK)
		goto bad;
	refresh_capabilities(im);
	*out = im;
	return IKASQ_OK;
bad:
	mailimap_free(im->s);
	free(im->where);
	free(im);
	return rc;
}

void
imap_close(struct imap *im)
{
	if (im == NULL)
		return;
	/* a dead connection would make LOGOUT wait for the timeout again */
	if (im->s->imap_stream != NULL && !im->idling && !im->broken)
		mailimap_logout(im->s);
	mailimap_free(im->s);
	free(im->where);
	free(im);
}

bool
imap_has(struct imap *im, const char *capability)
{
	return mailimap_has_extension(im->s, capability) != 0;
}

int
imap_select(struct imap *im, const char *mailbox, bool readonly,
	    uint32_t *uidvalidity, uint32_t *uidnext, uint32_t *exists,
	    struct ikasq_err *err)
{
	int r;

	r = readonly ? mailimap_examine(im->s, mailbox) :
	    mailimap_select(im->s, mailbox);
	if (r == MAILIMAP_ERROR_SELECT || r == MAILIMAP_ERROR_EXAMINE)
		return err_set(err, IKASQ_ENOTFOUND, "cannot open mailbox "
		    "'%s' on %s%s", mailbox, im->where, said(im));
	if (r != MAILIMAP_NO_ERROR)
		return fail(im, r, "cannot open a mailbox on", err);
	*uidvalidity = im->s->imap_selection_info->sel_uidvalidity;
	*uidnext = im->s->imap_selection_info->sel_uidnext;
	*exists = im->s->imap_selection_info->sel_exists;
	return IKASQ_OK;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int
imap_new_uids(struct imap *im, uint32_t after, uint32_t **uids, size_t *n,
	      struct ikasq_err *err)
{
	struct mailimap_search_key *key;
	clist *result = NULL;
	clistiter *it;
	size_t k = 0;
	int r;

	*uids = NULL;
	*n = 0;
	if (after == UINT32_MAX)
		return IKASQ_OK;
	key = mailimap_search_key_new_uid(mailimap_set_new_interval(after + 1,
	    0));
	r = mailimap_uid_search(im->s, NULL, key, &result);
	mailimap_search_key_free(key);
	if (r != MAILIMAP_NO_ERROR)
		return fail(im, r, "cannot list new messages on", err);
	*uids = xcalloc((size_t)clist_count(result) + 1, sizeof(uint32_t));
	for (it = clist_begin(result); it != NULL; it = clist_next(it)) {
		uint32_t uid = *(uint32_t *)clist_content(it);

		/* "N:*" matches the last message even below N */
		if (uid > after)
			(*uids)[k++] = uid;
	}
	mailimap_search_result_free(result);
	qsort(*uids, k, sizeof(uint32_t), cmp_u32);
	*n = k;
	return IKASQ_OK;
}

static struct mailimap_set *
uid_set(const uint32_t *uids, size_t n)
{
	struct mailimap_set *set = mailimap_set_new_empty();
	size_t i = 0;

	while (i < n) {
		size_t j = i;

		while (j + 1 < n && uids[j + 1] == uids[j] + 1)
			j++;
		if (j == i)
			mailimap_set_add_single(set, uids[i]);
		else
			mailimap_set_add_interval(set, uids[i], uids[j]);
		i = j + 1;
	}
	return set;
}

/* The position of uid in uids, or n when it is not there. */
static size_t
index_of(const uint32_t *uids, size_t n, uint32_t uid)
{
	size_t k = u32_search(uids, n, uid);

	return k < n && uids[k] == uid ? k : n;
}

int
imap_sizes(struct imap *im, const uint32_t *uids, size_t n, uint32_t *sizes,
	   struct ikasq_err *err)
{
	struct mailimap_fetch_type *ft;
	struct mailimap_set *set;
	clist *result = NULL;
	clistiter *it, *jt;
	int r;

	memset(sizes, 0, n * sizeof(*sizes));
	if (n == 0)
		return IKASQ_OK;
	set = uid_set(uids, n);
	ft = mailimap_fetch_type_new_fetch_att_list_empty();
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_rfc822_size());
	r = mailimap_uid_fetch(im->s, set, ft, &result);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR)
		return fail(im, r, "cannot fetch from", err);
	for (it = clist_begin(result); it != NULL; it = clist_next(it)) {
		struct mailimap_msg_att *ma = clist_content(it);
		uint32_t uid = 0, size = 0;
		size_t k;

		for (jt = clist_begin(ma->att_list); jt; jt = clist_next(jt)) {
			struct mailimap_msg_att_item *item = clist_content(jt);

			if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
				continue;
			if (item->att_data.att_static->att_type ==
			    MAILIMAP_MSG_ATT_UID)
				uid = item->att_data.att_static->att_data.att_uid;
			else if (item->att_data.att_static->att_type ==
			    MAILIMAP_MSG_ATT_RFC822_SIZE)
				size = item->att_data.att_static->att_data.
				    att_rfc822_size;
		}
		if ((k = index_of(uids, n, uid)) < n)
			sizes[k] = size;
	}
	mailimap_fetch_list_free(result);
	return IKASQ_OK;
}

int
imap_fetch(struct imap *im, const uint32_t *uids, size_t n,
	   bool headers_only, struct imap_msg **msgs, size_t *nmsgs,
	   struct ikasq_err *err)
{
	struct mailimap_fetch_type *ft;
	struct mailimap_set *set;
	struct imap_msg *v;
	clist *result = NULL;
	clistiter *it, *jt;
	size_t k, got = 0;
	int r;

	*msgs = NULL;
	*nmsgs = 0;
	if (n == 0)
		return IKASQ_OK;
	set = uid_set(uids, n);
	ft = mailimap_fetch_type_new_fetch_att_list_empty();
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_body_peek_section(headers_only ?
	    mailimap_section_new_header() : mailimap_section_new(NULL)));
	r = mailimap_uid_fetch(im->s, set, ft, &result);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR)
		return fail(im, r, "cannot fetch from", err);
	v = xcalloc(n, sizeof(*v));
	for (it = clist_begin(result); it != NULL; it = clist_next(it)) {
		struct mailimap_msg_att *ma = clist_content(it);
		uint32_t uid = 0;
		const char *data = NULL;
		size_t len = 0;

		for (jt = clist_begin(ma->att_list); jt; jt = clist_next(jt)) {
			struct mailimap_msg_att_item *item = clist_content(jt);
			struct mailimap_msg_att_static *st;

			if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
				continue;
			st = item->att_data.att_static;
			if (st->att_type == MAILIMAP_MSG_ATT_UID) {
				uid = st->att_data.att_uid;
			} else if (st->att_type ==
			    MAILIMAP_MSG_ATT_BODY_SECTION &&
			    st->att_data.att_body_section != NULL) {
				data = st->att_data.att_body_section->
				    sec_body_part;
				len = st->att_data.att_body_section->sec_length;
			}
		}
		k = index_of(uids, n, uid);
		if (k == n || v[k].data != NULL)
			continue;
		v[k].uid = uid;
		v[k].data = data ? xstrndup(data, len) : xstrdup("");
		v[k].len = data ? len : 0;
		v[k].headers_only = headers_only;
		got++;
	}
	mailimap_fetch_list_free(result);
	/* in UID order, without the holes of vanished messages */
	for (k = 0, got = 0; k < n; k++)
		if (v[k].data != NULL)
			v[got++] = v[k];
	*msgs = v;
	*nmsgs = got;
	return IKASQ_OK;
}

void
imap_msgs_free(struct imap_msg *msgs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(msgs[i].data);
	free(msgs);
}

static int
store_flag(struct imap *im, const uint32_t *uids, size_t n,
	   struct mailimap_flag *flag, struct ikasq_err *err)
{
	struct mailimap_flag_list *fl = mailimap_flag_list_new_empty();
	struct mailimap_store_att_flags *sa;
	struct mailimap_set *set = uid_set(uids, n);
	int r;

	mailimap_flag_list_add(fl, flag);
	sa = mailimap_store_att_flags_new_add_flags_silent(fl);
	r = mailimap_uid_store(im->s, set, sa);
	mailimap_store_att_flags_free(sa);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR)
		return fail(im, r, "cannot set flags on", err);
	return IKASQ_OK;
}

int
imap_mark_seen(struct imap *im, const uint32_t *uids, size_t n,
	       struct ikasq_err *err)
{
	if (n == 0)
		return IKASQ_OK;
	return store_flag(im, uids, n, mailimap_flag_new_seen(), err);
}

int
imap_move(struct imap *im, const uint32_t *uids, size_t n, const char *folder,
	  struct ikasq_err *err)
{
	struct mailimap_set *set;
	int r, rc;

	if (n == 0)
		return IKASQ_OK;
	set = uid_set(uids, n);
	if (imap_has(im, "MOVE")) {
		r = mailimap_uid_move(im->s, set, folder);
		mailimap_set_free(set);
		if (r != MAILIMAP_NO_ERROR)
			return err_set(err, r == MAILIMAP_ERROR_STREAM ?
			    IKASQ_ETEMP : IKASQ_EUNAVAIL, "cannot move "
			    "messages to '%s' on %s%s", folder, im->where,
			    said(im));
		return IKASQ_OK;
	}
	r = mailimap_uid_copy(im->s, set, folder);
	if (r != MAILIMAP_NO_ERROR) {
		mailimap_set_free(set);
		return err_set(err, r == MAILIMAP_ERROR_STREAM ? IKASQ_ETEMP :
		    IKASQ_EUNAVAIL, "cannot copy messages to '%s' on %s%s",
		    folder, im->where, said(im));
	}
	rc = store_flag(im, uids, n, mailimap_flag_new_deleted(), err);
	if (rc == IKASQ_OK) {
		r = imap_has(im, "UIDPLUS") ?
		    mailimap_uid_expunge(im->s, set) :
		    mailimap_expunge(im->s);
		if (r != MAILIMAP_NO_ERROR)
			rc = fail(im, r, "cannot expunge on", err);
	}
	mailimap_set_free(set);
	return rc;
}

int
imap_noop(struct imap *im, struct ikasq_err *err)
{
	int r = mailimap_noop(im->s);

	return r == MAILIMAP_NO_ERROR ? IKASQ_OK : fail(im, r, "lost", err);
}

bool
imap_can_idle(struct imap *im)
{
	return mailimap_has_idle(im->s) != 0;
}

int
imap_idle_start(struct imap *im, struct ikasq_err *err)
{
	int r = mailimap_idle(im->s);

	if (r != MAILIMAP_NO_ERROR)
		return fail(im, r, "cannot IDLE on", err);
	im->idling = true;
	return IKASQ_OK;
}

int
imap_idle_fd(struct imap *im)
{
	return mailimap_idle_get_fd(im->s);
}

bool
imap_idle_pending(struct imap *im)
{
	return im->s->imap_stream != NULL &&
	    im->s->imap_stream->read_buffer_len > 0;
}

int
imap_idle_done(struct imap *im, struct ikasq_err *err)
{
	int r;

	im->idling = false;
	r = mailimap_idle_done(im->s);
	return r == MAILIMAP_NO_ERROR ? IKASQ_OK : fail(im, r, "lost", err);
}
