/* http.c - one libcurl wrapper: timeouts, status, body, Retry-After */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "ikasq/http.h"
#include "ikasq/util.h"

static CURL *handle;

struct sink {
	struct strbuf body;
	int64_t retry_after;
	size_t limit;
	int overflow;
};

/* Answers larger than this are cut off: no İkas or AI answer comes near. */
#define BODY_MAX (64u * 1024 * 1024)

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;

	if (s->body.len + size * n > s->limit) {
		s->overflow = 1;
		return 0;
	}
	sb_add(&s->body, p, size * n);
	return size * n;
}

int64_t
http_parse_retry_after(const char *v)
{
	char *end;
	long long n;
	time_t t;

	while (isspace((unsigned char)*v))
		v++;
	if (isdigit((unsigned char)*v)) {
		n = strtoll(v, &end, 10);
		while (isspace((unsigned char)*end))
			end++;
		return *end == '\0' && n >= 0 ? n : -1;
	}
	t = curl_getdate(v, NULL);
	if (t < 0)
		return -1;
	return t > time(NULL) ? (int64_t)(t - time(NULL)) : 0;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t len = size * n;

	if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
		char *v = xstrndup(p + 12, len - 12);
		char *e = v + strlen(v);

		while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' '))
			*--e = '\0';
		s->retry_after = http_parse_retry_after(v);
		free(v);
	}
	return len;
}

/* "https://host/path" for messages: no query, no credentials. */
static char *
display_url(const char *url)
{
	const char *q = strpbrk(url, "?#");
	const char *at = strchr(url, '@'), *scheme = strstr(url, "://");
	char *s;

	s = xstrndup(url, q ? (size_t)(q - url) : strlen(url));
	if (scheme != NULL && at != NULL && (!q || at < q)) {
		char *r = xasprintf("%.*s%s", (int)(scheme + 3 - url), url,
		    s + (at + 1 - url));

		free(s);
		s = r;
	}
	return s;
}

int
http_post(const char *url, const char *content_type, const char *body,
	  size_t len, const char *const *headers, const struct http_opts *o,
	  struct http_resp *resp, struct ikasq_err *err)
{
	struct curl_slist *hl = NULL;
	struct sink s;
	char errbuf[CURL_ERROR_SIZE], *ct, *shown;
	CURLcode rc;
	int64_t t0 = now_ms();
	int i, ret = IKASQ_OK;

	memset(resp, 0, sizeof(*resp));
	resp->retry_after_s = -1;
	if (handle == NULL) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		handle = curl_easy_init();
		if (handle == NULL)
			return err_set(err, IKASQ_EINTERNAL, "cannot start "
			    "libcurl");
	} else {
		curl_easy_reset(handle);
	}
	sb_init(&s.body);
	s.retry_after = -1;
	s.limit = BODY_MAX;
	s.overflow = 0;
	ct = xasprintf("Content-Type: %s", content_type);
	hl = curl_slist_append(hl, ct);
	hl = curl_slist_append(hl, "Accept: application/json");
	hl = curl_slist_append(hl, "Expect:");
	for (i = 0; headers != NULL && headers[i] != NULL; i++)
		hl = curl_slist_append(hl, headers[i]);
	errbuf[0] = '\0';
	curl_easy_setopt(handle, CURLOPT_URL, url);
	curl_easy_setopt(handle, CURLOPT_POST, 1L);
	curl_easy_setopt(handle, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(handle, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(handle, CURLOPT_USERAGENT, "ikasq/" PACKAGE_VERSION);
	curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(handle, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(handle, CURLOPT_HEADERDATA, &s);
	curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)(o && o->connect_timeout_ms ? o->connect_timeout_ms : 10000));
	curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS,
	    (long)(o && o->timeout_ms ? o->timeout_ms : 30000));
	curl_easy_setopt(handle, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(handle, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
	if (o != NULL && o->ca_file != NULL && *o->ca_file != '\0')
		curl_easy_setopt(handle, CURLOPT_CAINFO, o->ca_file);
	rc = curl_easy_perform(handle);
	resp->elapsed_ms = now_ms() - t0;
	if (rc != CURLE_OK) {
		shown = display_url(url);
		ret = err_set(err, rc == CURLE_PEER_FAILED_VERIFICATION ||
		    rc == CURLE_SSL_CACERT_BADFILE ? IKASQ_EUNAVAIL :
		    IKASQ_ETEMP, "%s: %s", shown, s.overflow ?
		    "the answer is too large" : errbuf[0] ? errbuf :
		    curl_easy_strerror(rc));
		free(shown);
		sb_release(&s.body);
	} else {
		curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE,
		    &resp->status);
		resp->len = s.body.len;
		resp->body = sb_detach(&s.body);
		resp->retry_after_s = s.retry_after;
	}
	curl_slist_free_all(hl);
	free(ct);
	return ret;
}

void
http_resp_release(struct http_resp *r)
{
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

bool
http_url_allowed(const char *url)
{
	const char *h;

	if (strncmp(url, "https://", 8) == 0)
		return true;
	if (strncmp(url, "http://", 7) != 0)
		return false;
	h = url + 7;
	return strncmp(h, "127.", 4) == 0 || strncmp(h, "localhost", 9) == 0 ||
	    strncmp(h, "[::1]", 5) == 0;
}

char *
http_form_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	struct strbuf sb = STRBUF_INIT;

	sb_init(&sb);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
			sb_addc(&sb, (char)c);
		} else {
			sb_addc(&sb, '%');
			sb_addc(&sb, hex[c >> 4]);
			sb_addc(&sb, hex[c & 15]);
		}
	}
	return sb_detach(&sb);
}

void
http_cleanup(void)
{
	if (handle != NULL) {
		curl_easy_cleanup(handle);
		handle = NULL;
		curl_global_cleanup();
	}
}
