/*
 * imap.h - an IMAP session (libetpan; only imap.c includes it).
 *
 * imap_connect() connects (TLS on port 993, STARTTLS or, on loopback,
 * none), verifies the certificate chain and the host name itself before a
 * password is sent, and logs in.  Errors: IKASQ_ETEMP for anything a later
 * run may not meet (refused, timed out, cut off, garbage), IKASQ_EUNAVAIL
 * for a certificate that does not verify, IKASQ_EPERM for a refused login,
 * IKASQ_ENOTFOUND for a mailbox that does not exist.
 */
#ifndef IKASQ_IMAP_H
#define IKASQ_IMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ikasq/err.h"

enum imap_tls { IMAP_TLS_IMAPS, IMAP_TLS_STARTTLS, IMAP_TLS_NONE };
enum imap_auth { IMAP_AUTH_LOGIN, IMAP_AUTH_PLAIN, IMAP_AUTH_XOAUTH2 };

struct imap_account {
	const char *name;	/* for messages */
	const char *host;
	int port;
	int tls;		/* enum imap_tls */
	int auth;		/* enum imap_auth */
	const char *user;
	const char *secret;	/* password, or the XOAUTH2 access token */
	const char *ca_file;	/* extra trusted CAs (PEM); NULL or "" */
	int timeout_s;
};

struct imap;

struct imap_msg {
	uint32_t uid;
	uint32_t size;		/* RFC822.SIZE: of the whole message */
	char *data;		/* what was fetched (owned) */
	size_t len;
	bool headers_only;	/* data is the header block only */
};

int imap_connect(const struct imap_account *a, struct imap **out,
		 struct ikasq_err *err);
/* LOGOUT (if the connection still works) and free. */
void imap_close(struct imap *im);
bool imap_has(struct imap *im, const char *capability);

/* SELECT (or EXAMINE when readonly) a mailbox. */
int imap_select(struct imap *im, const char *mailbox, bool readonly,
		uint32_t *uidvalidity, uint32_t *uidnext, uint32_t *exists,
		struct ikasq_err *err);
/* UIDs greater than after, ascending; the caller frees *uids. */
int imap_new_uids(struct imap *im, uint32_t after, uint32_t **uids,
		  size_t *n, struct ikasq_err *err);
/* RFC822.SIZE of each UID (sizes[i] for uids[i]; 0 if it vanished). */
int imap_sizes(struct imap *im, const uint32_t *uids, size_t n,
	       uint32_t *sizes, struct ikasq_err *err);
/* BODY.PEEK[] (or BODY.PEEK[HEADER] with headers_only) of the UIDs, in
 * UID order; messages that vanished meanwhile are left out.  Free with
 * imap_msgs_free(). */
int imap_fetch(struct imap *im, const uint32_t *uids, size_t n,
	       bool headers_only, struct imap_msg **msgs, size_t *nmsgs,
	       struct ikasq_err *err);
void imap_msgs_free(struct imap_msg *msgs, size_t n);
/* +FLAGS.SILENT (\Seen) */
int imap_mark_seen(struct imap *im, const uint32_t *uids, size_t n,
		   struct ikasq_err *err);
/* UID MOVE, or COPY + \Deleted + UID EXPUNGE (or EXPUNGE) without it. */
int imap_move(struct imap *im, const uint32_t *uids, size_t n,
	      const char *folder, struct ikasq_err *err);
int imap_noop(struct imap *im, struct ikasq_err *err);

/* IDLE: start it, learn its descriptor for poll(), and end it. */
bool imap_can_idle(struct imap *im);
int imap_idle_start(struct imap *im, struct ikasq_err *err);
int imap_idle_fd(struct imap *im);
/* True when the server has already sent data we have not looked at. */
bool imap_idle_pending(struct imap *im);
int imap_idle_done(struct imap *im, struct ikasq_err *err);

#endif
