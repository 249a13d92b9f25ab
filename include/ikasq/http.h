/*
 * http.h - HTTP requests with libcurl (only http.c includes it).
 *
 * One handle per process, reused, so connections to the same server stay
 * open between requests.  TLS is always verified (a ca_file may add a CA).
 * Transport failures (refused, DNS, timeout, reset) are IKASQ_ETEMP; a
 * response of any status is IKASQ_OK with the status in the result.
 */
#ifndef IKASQ_HTTP_H
#define IKASQ_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ikasq/err.h"

struct http_opts {
	int connect_timeout_ms;	/* 0: 10 s */
	int timeout_ms;		/* the whole request; 0: 30 s */
	const char *ca_file;	/* extra trusted CAs; NULL or "" */
};

struct http_resp {
	long status;
	char *body;		/* NUL-terminated; owned */
	size_t len;
	int64_t retry_after_s;	/* from Retry-After; -1 when absent */
	int64_t elapsed_ms;
};

/*
 * POST body (len bytes) to url with the given content type and extra
 * header lines ("Authorization: Bearer ...", NULL-terminated list, may be
 * NULL).  The caller releases resp with http_resp_release().  Messages
 * name the URL without its query.
 */
int http_post(const char *url, const char *content_type, const char *body,
	      size_t len, const char *const *headers,
	      const struct http_opts *o, struct http_resp *resp,
	      struct ikasq_err *err);
void http_resp_release(struct http_resp *r);

/* https://, or http:// to this machine only (a stand-in, a local model):
 * where ikasq may send credentials and customer data. */
bool http_url_allowed(const char *url);

/* URL-encode s for a form body (caller frees). */
char *http_form_escape(const char *s);

/* Retry-After: delta-seconds or an HTTP-date; -1 when unreadable. */
int64_t http_parse_retry_after(const char *value);

/* Close the shared handle (end of process). */
void http_cleanup(void);

#endif
