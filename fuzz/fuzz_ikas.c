/*
 * fuzz_ikas.c - ikas_parse_answer(): what a listOrder answer of the İkas
 * Admin API means to the worker.
 *
 * Input: one byte of selector, then the answer's body.  The selector's
 * low three bits pick the HTTP status (200 401 403 408 429 500 502 400:
 * '0' is 200, '4' is 429 ...), and its bit 0x08 a Retry-After header of
 * 7 s ('<' is 429 with Retry-After, '4' without).  An empty input is a 200
 * with an empty body.  The numbers asked for are 1001, 123456 and
 * 987654321 (the seeds in fuzz/seeds/ikas answer some of them).
 *
 * Checked besides memory safety: the result is a known IKASQ_* value with
 * a message; IKASQ_OK only for HTTP 200, then with an entry per number,
 * in order, each NULL or the compact JSON of an object whose orderNumber
 * is that number; a Retry-After only with IKASQ_ERATELIMIT (HTTP 429);
 * login_required only with IKASQ_EPERM.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include <jansson.h>

#include "ikasq/ikas.h"
#include "fuzz.h"

static const long statuses[8] = { 200, 401, 403, 408, 429, 500, 502, 400 };
static const char *const numbers[] = { "1001", "123456", "987654321" };
#define NNUMBERS 3

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ikas_order *out = NULL;
	struct ikasq_err err;
	int64_t retry_after_hdr = -1, retry_after = -2;
	bool login = false;
	long status = 200;
	const char *body = (const char *)data;
	size_t len = size;
	int rc, i;

	if (size > 0) {
		status = statuses[data[0] & 7];
		if (data[0] & 8)
			retry_after_hdr = 7;
		body++;
		len--;
	}
	memset(&err, 0, sizeof(err));
	rc = ikas_parse_answer(status, body, len, retry_after_hdr, numbers,
	    NNUMBERS, &out, &retry_after, &login, &err);
	FUZZ_CHECK(rc >= IKASQ_OK && rc <= IKASQ_ECONFIG, "rc %d", rc);
	FUZZ_CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL,
	    "the message is not terminated");
	FUZZ_CHECK(retry_after >= -1, "retry after %lld",
	    (long long)retry_after);
	FUZZ_CHECK(retry_after == -1 || rc == IKASQ_ERATELIMIT,
	    "retry after %lld with rc %d", (long long)retry_after, rc);
	FUZZ_CHECK(rc != IKASQ_ERATELIMIT || status == 429,
	    "rate limited by HTTP %ld", status);
	FUZZ_CHECK(!login || rc == IKASQ_EPERM, "login required with rc %d",
	    rc);
	if (rc != IKASQ_OK) {
		FUZZ_CHECK(out == NULL, "an answer with rc %d", rc);
		FUZZ_CHECK(err.rc == rc && err.msg[0] != '\0',
		    "rc %d, err.rc %d, message '%s'", rc, err.rc, err.msg);
		return 0;
	}
	FUZZ_CHECK(status == 200, "IKASQ_OK for HTTP %ld", status);
	FUZZ_CHECK(out != NULL, "IKASQ_OK without an answer");
	for (i = 0; i < NNUMBERS; i++) {
		json_t *o, *num;

		FUZZ_CHECK(out[i].number != NULL &&
		    strcmp(out[i].number, numbers[i]) == 0,
		    "entry %d answers '%s', not %s", i,
		    out[i].number ? out[i].number : "(null)", numbers[i]);
		if (out[i].json == NULL)
			continue;
		o = json_loads(out[i].json, 0, NULL);
		FUZZ_CHECK(json_is_object(o), "order %s: not a JSON object: %s",
		    numbers[i], out[i].json);
		num = json_object_get(o, "orderNumber");
		FUZZ_CHECK(json_is_string(num) &&
		    strcmp(json_string_value(num), numbers[i]) == 0,
		    "order %s: the answer is for another: %s", numbers[i],
		    out[i].json);
		json_decref(o);
	}
	ikas_orders_free(out, NNUMBERS);
	return 0;
}
