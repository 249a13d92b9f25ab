/*
 * fuzz_html.c - html_to_text(), as mime.c calls it on a text/html part.
 *
 * mime.c converts a part to UTF-8 before html_to_text() sees it, and
 * html.h asks for UTF-8, so the input goes through mime_to_utf8() first
 * (valid UTF-8 without NUL bytes comes out unchanged); the result is
 * copied into a buffer of exactly its length, without a terminating NUL,
 * so that AddressSanitizer sees a read past the end.
 *
 * Checked besides memory safety: mime_to_utf8() and html_to_text() both
 * return valid UTF-8, and the text is never longer than 4 bytes for every
 * input byte (a character reference of n >= 3 bytes yields at most 4).
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "ikasq/html.h"
#include "ikasq/mime.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *utf8, *html, *text;
	size_t len;

	utf8 = mime_to_utf8((const char *)data, size);
	FUZZ_CHECK(utf8 != NULL, "mime_to_utf8 gave NULL");
	FUZZ_CHECK(g_utf8_validate(utf8, -1, NULL),
	    "mime_to_utf8 gave text that is not UTF-8");
	len = strlen(utf8);
	html = malloc(len ? len : 1);
	FUZZ_CHECK(html != NULL, "out of memory");
	memcpy(html, utf8, len);
	free(utf8);

	text = html_to_text(html, len);
	FUZZ_CHECK(text != NULL, "html_to_text gave NULL");
	FUZZ_CHECK(g_utf8_validate(text, -1, NULL),
	    "html_to_text gave text that is not UTF-8");
	FUZZ_CHECK(strlen(text) <= 4 * len, "%zu bytes of text from %zu",
	    strlen(text), len);
	free(text);
	free(html);
	return 0;
}
