/*
 * fuzz_mime.c - a raw message through mime_parse() and extract_orders(),
 * as `ikasq extract FILE` does it.
 *
 * The input is the message, bytes as they come.  It is parsed twice: with
 * the default size limit (what `ikasq extract FILE` does), and, when it is
 * over 1 KiB, with a limit of 1024 bytes, the smallest [ingest] max_size
 * allows, so that the header-only path of an oversize message is fuzzed
 * too (`ikasq extract` with "[ingest] max_size = 1k" replays that one).
 *
 * Checked besides memory safety: every string of struct mail is valid
 * UTF-8 (mime.h promises it), the size and digest describe the input, an
 * oversize message has a note and no body, and every order match has a
 * number of digits, evidence in UTF-8 and "subject" or "body" as where.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include <glib.h>

#include "ikasq/extract.h"
#include "ikasq/mime.h"
#include "fuzz.h"

#define SMALL_MAX_SIZE 1024

static struct extractor *extractor;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct ikasq_err err;

	(void)argc;
	(void)argv;
	if (extractor_new(NULL, &extractor, &err) != IKASQ_OK) {
		fprintf(stderr, "fuzz_mime: extractor_new: %s\n", err.msg);
		abort();
	}
	return 0;
}

static void
check_text(const char *what, const char *s, bool may_be_null)
{
	if (s == NULL) {
		FUZZ_CHECK(may_be_null, "%s is NULL", what);
		return;
	}
	FUZZ_CHECK(g_utf8_validate(s, -1, NULL), "%s is not valid UTF-8",
	    what);
}

static void
check_mail(const struct mail *m, size_t size)
{
	size_t i;

	check_text("message_id", m->message_id, true);
	check_text("date", m->date, true);
	check_text("from_addr", m->from_addr, true);
	check_text("from_name", m->from_name, true);
	check_text("to", m->to, true);
	check_text("subject", m->subject, true);
	check_text("in_reply_to", m->in_reply_to, true);
	check_text("references", m->references, true);
	check_text("body", m->body, false);
	check_text("note", m->note, true);
	check_text("parse_error", m->parse_error, true);
	FUZZ_CHECK(m->size == size, "size %zu for %zu bytes", m->size, size);
	FUZZ_CHECK(strlen(m->sha256) == 64, "sha256 '%s'", m->sha256);
	for (i = 0; i < 64; i++)
		FUZZ_CHECK(strchr("0123456789abcdef", m->sha256[i]) != NULL,
		    "sha256 '%s' is not lower-case hex", m->sha256);
}

static void
check_orders(const struct order_match *v, int n)
{
	int i, j;

	FUZZ_CHECK(n >= 0 && n <= 100, "%d order numbers", n);
	FUZZ_CHECK(n == 0 || v != NULL, "%d order numbers, no array", n);
	for (i = 0; i < n; i++) {
		const char *o = v[i].order;

		FUZZ_CHECK(o != NULL && *o >= '1' && *o <= '9' &&
		    strspn(o, "0123456789") == strlen(o) && strlen(o) <= 18,
		    "order number '%s'", o ? o : "(null)");
		FUZZ_CHECK(v[i].where != NULL &&
		    (strcmp(v[i].where, "subject") == 0 ||
		    strcmp(v[i].where, "body") == 0), "where '%s'",
		    v[i].where ? v[i].where : "(null)");
		check_text("evidence", v[i].evidence, false);
		for (j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(v[j].order, o) != 0,
			    "order number %s twice", o);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *raw = (const char *)data;
	struct order_match *v = NULL;
	struct mail m;
	int n = 0;

	if (extractor == NULL)
		LLVMFuzzerInitialize(NULL, NULL);

	mime_parse(raw, size, 0, &m);
	check_mail(&m, size);
	FUZZ_CHECK(m.note == NULL, "a note for %zu bytes: %s", size, m.note);
	extract_orders(extractor, m.subject, m.body, &v, &n);
	check_orders(v, n);
	order_matches_free(v, n);
	mail_release(&m);

	if (size > SMALL_MAX_SIZE) {
		mime_parse(raw, size, SMALL_MAX_SIZE, &m);
		check_mail(&m, size);
		FUZZ_CHECK(m.note != NULL && *m.body == '\0',
		    "an oversize message without a note or with a body");
		v = NULL;
		n = 0;
		extract_orders(extractor, m.subject, m.body, &v, &n);
		check_orders(v, n);
		order_matches_free(v, n);
		mail_release(&m);
	}
	return 0;
}
