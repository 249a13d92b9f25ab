/* util.c - memory, strings, durations, clocks */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ikasq/util.h"

static void
oom(size_t n)
{
	fprintf(stderr, "ikasq: out of memory allocating %zu bytes\n", n);
	abort();
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom(n);
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (p == NULL)
		oom(nmemb * size);
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		oom(n);
	return q;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xvasprintf(const char *fmt, va_list ap)
{
	char *p;
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		oom(0);
	p = xmalloc((size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}

void
sb_init(struct strbuf *sb)
{
	sb->buf = NULL;
	sb->len = 0;
	sb->alloc = 0;
	sb_grow(sb, 0);
}

void
sb_release(struct strbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->alloc = 0;
}

char *
sb_detach(struct strbuf *sb)
{
	char *p;

	sb_grow(sb, 0);
	p = sb->buf;
	sb->buf = NULL;
	sb->len = sb->alloc = 0;
	return p;
}

void
sb_reset(struct strbuf *sb)
{
	sb_grow(sb, 0);
	sb->len = 0;
	sb->buf[0] = '\0';
}

void
sb_grow(struct strbuf *sb, size_t extra)
{
	size_t need;

	if (extra > SIZE_MAX - sb->len - 1)
		oom(SIZE_MAX);
	need = sb->len + extra + 1;
	if (need <= sb->alloc)
		return;
	if (sb->alloc == 0)
		sb->alloc = 64;
	while (sb->alloc < need)
		sb->alloc = sb->alloc < SIZE_MAX / 2 ? sb->alloc * 2 : need;
	sb->buf = xrealloc(sb->buf, sb->alloc);
	sb->buf[sb->len] = '\0';
}

void
sb_add(struct strbuf *sb, const void *data, size_t n)
{
	sb_grow(sb, n);
	memcpy(sb->buf + sb->len, data, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void
sb_adds(struct strbuf *sb, const char *s)
{
	sb_add(sb, s, strlen(s));
}

void
sb_addc(struct strbuf *sb, char c)
{
	sb_add(sb, &c, 1);
}

void
sb_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap, cp;
	int n;

	va_start(ap, fmt);
	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		oom(0);
	sb_grow(sb, (size_t)n);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
	va_end(ap);
}

static const struct {
	char unit;
	int64_t seconds;
} units[] = {
	{ 'w', 604800 }, { 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 },
};

bool
parse_duration(const char *s, int64_t *seconds)
{
	int64_t v = 0, mul = 1;
	const char *p = s;
	size_t i;

	if (!isdigit((unsigned char)*p))
		return false;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (INT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (*p - '0');
	}
	if (*p != '\0') {
		for (i = 0; i < ARRAY_SIZE(units); i++)
			if (units[i].unit == *p)
				break;
		if (i == ARRAY_SIZE(units) || p[1] != '\0')
			return false;
		mul = units[i].seconds;
	}
	if (v > INT64_MAX / mul)
		return false;
	*seconds = v * mul;
	return true;
}

char *
format_duration(int64_t seconds)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(units); i++)
		if (seconds != 0 && seconds % units[i].seconds == 0)
			return xasprintf("%lld%c",
			    (long long)(seconds / units[i].seconds),
			    units[i].unit);
	return xasprintf("%llds", (long long)seconds);
}

bool
parse_int(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool
is_uuid(const char *s)
{
	static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
	size_t i;

	for (i = 0; shape[i] != '\0'; i++) {
		if (shape[i] == '-') {
			if (s[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return s[i] == '\0';
}

int64_t
now_epoch(void)
{
	return (int64_t)time(NULL);
}

int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
backoff_seconds(int attempts, int64_t unit, int64_t cap_seconds)
{
	int64_t d = unit > 0 ? unit : 60;
	int i;

	if (attempts < 0)
		attempts = 0;
	for (i = 0; i < attempts; i++) {
		if (d > cap_seconds / 2)
			return cap_seconds;
		d *= 2;
	}
	return d < cap_seconds ? d : cap_seconds;
}

bool
read_all_fd(int fd, struct strbuf *out)
{
	ssize_t n;

	for (;;) {
		sb_grow(out, 65536);
		n = read(fd, out->buf + out->len, out->alloc - out->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return false;
		if (n == 0)
			break;
		out->len += (size_t)n;
		out->buf[out->len] = '\0';
	}
	return true;
}

bool
read_file(const char *path, struct strbuf *out)
{
	int fd, saved;
	bool ok;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ok = read_all_fd(fd, out);
	saved = errno;
	close(fd);
	errno = saved;
	return ok;
}

char *
excerpt(const char *data, size_t len, size_t max)
{
	size_t n = len < max ? len : max, i;
	char *s = xstrndup(data ? data : "", data ? n : 0);

	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 32)
			s[i] = ' ';
	return s;
}

size_t
u32_search(const uint32_t *v, size_t n, uint32_t value)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid] < value)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const char *
worker_identity(void)
{
	static char id[300];
	static pid_t pid;
	char host[256];
	struct timespec ts;

	/* host:pid plus a few bits of the clock, so that a pid reused after a
	 * crash never looks like the dead worker that held a lease */
	if (pid != getpid()) {
		pid = getpid();
		if (gethostname(host, sizeof(host)) != 0)
			strcpy(host, "localhost");
		host[sizeof(host) - 1] = '\0';
		clock_gettime(CLOCK_REALTIME, &ts);
		snprintf(id, sizeof(id), "%s:%ld:%04lx", host, (long)pid,
		    (unsigned long)((ts.tv_nsec / 1000) & 0xffff));
	}
	return id;
}
