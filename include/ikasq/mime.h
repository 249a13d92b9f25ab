/*
 * mime.h - a raw RFC 5322 message -> struct mail.  Only mime.c includes
 * GMime.
 *
 * Every string in struct mail is valid UTF-8 without NUL bytes, so it can go
 * into PostgreSQL as it is: labelled charsets are converted, a part with no
 * label that is not UTF-8 is read as windows-1254 (Turkish mail), and what
 * still cannot be decoded is replaced by U+FFFD.  mime_parse() never fails:
 * a message GMime cannot make sense of still yields the headers it could
 * read, the raw text as body, and parse_error.
 */
#ifndef IKASQ_MIME_H
#define IKASQ_MIME_H

#include <stdbool.h>
#include <stddef.h>

#define MIME_DEFAULT_MAX_SIZE (25u * 1024 * 1024)

struct mail {
	char *message_id;	/* without <>; NULL when absent */
	char *date;		/* RFC 3339 in UTC; NULL when absent or bad */
	char *from_addr;	/* NULL when absent */
	char *from_name;	/* decoded display name; NULL when none */
	char *to;		/* addresses, ", "-separated; NULL when none */
	char *subject;		/* decoded; NULL when absent */
	char *in_reply_to;	/* without <>; NULL when absent */
	char *references;	/* message ids, space-separated; NULL */
	char *body;		/* the text a person reads; never NULL */
	size_t size;		/* bytes of the raw message */
	char sha256[65];	/* hex digest of the raw bytes */
	char *note;		/* e.g. oversize: body not parsed; NULL */
	char *parse_error;	/* why parsing fell back; NULL when fine */
};

/* Parse raw (len bytes, need not be NUL-terminated).  A message larger
 * than max_size (0: MIME_DEFAULT_MAX_SIZE) keeps its headers only, with a
 * note.  The caller releases m with mail_release(). */
void mime_parse(const char *raw, size_t len, size_t max_size,
		struct mail *m);
void mail_release(struct mail *m);

/* Make text valid UTF-8 without NULs: bytes that are not UTF-8 are read as
 * windows-1254 (caller frees).  For text from outside MIME (tests, tools). */
char *mime_to_utf8(const char *text, size_t len);

#endif
