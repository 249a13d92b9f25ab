/*
 * util.h - memory, strings, time and small helpers shared by every module.
 *
 * Allocation failure is fatal (xmalloc aborts), so callers never check.
 * Unless stated, a returned pointer is owned by the caller.
 */
#ifndef IKASQ_UTIL_H
#define IKASQ_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap);

/* A growable NUL-terminated byte string (git's strbuf). */
struct strbuf {
	char *buf;		/* always NUL-terminated once initialised */
	size_t len;
	size_t alloc;
};
#define STRBUF_INIT { NULL, 0, 0 }

void sb_init(struct strbuf *sb);
void sb_release(struct strbuf *sb);
/* Hand the buffer to the caller; sb is empty again. */
char *sb_detach(struct strbuf *sb);
void sb_reset(struct strbuf *sb);
void sb_grow(struct strbuf *sb, size_t extra);
void sb_add(struct strbuf *sb, const void *data, size_t n);
void sb_adds(struct strbuf *sb, const char *s);
void sb_addc(struct strbuf *sb, char c);
void sb_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Parse a duration: a non-negative integer with an optional unit
 * s, m, h, d, w ("90", "90s", "10m", "1h", "7d").  Returns false when
 * the text is not one or the result overflows.
 */
bool parse_duration(const char *s, int64_t *seconds);
/* Format seconds as the largest exact unit ("3600" -> "1h"). */
char *format_duration(int64_t seconds);
/* Parse a decimal integer within [min, max]; false on anything else. */
bool parse_int(const char *s, long min, long max, long *out);
/* True when s is a UUID in canonical 8-4-4-4-12 hex form. */
bool is_uuid(const char *s);

/* Seconds since the epoch, and monotonic milliseconds. */
int64_t now_epoch(void);
int64_t now_ms(void);

/* Job backoff: the delay before retry after the attempts-th failure,
 * 2^attempts units (the seed's 2, 4, 8 minutes with a unit of 60 s),
 * capped at cap_seconds. */
int64_t backoff_seconds(int attempts, int64_t unit, int64_t cap_seconds);

/* Read all of fd into a buffer; false with errno set on error. */
bool read_all_fd(int fd, struct strbuf *out);
/* Read a whole file; false with errno set on error. */
bool read_file(const char *path, struct strbuf *out);

/* The first max bytes of an answer as one printable line, for a message
 * about it (caller frees). */
char *excerpt(const char *data, size_t len, size_t max);
/* The index of value in the ascending array v[n], or where it would go. */
size_t u32_search(const uint32_t *v, size_t n, uint32_t value);

/* Host name and pid, e.g. "mx1:1234", for lease ownership and logs. */
const char *worker_identity(void);

#endif
