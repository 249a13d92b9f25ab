/*
 * config.c - ikasq.conf, read with GLib's GKeyFile
 *
 * GKeyFile knows neither line numbers nor our keys, so the text is first
 * scanned line by line (syntax, sections, keys, where each one is), then
 * GKeyFile reads the values, and every value is checked against the table
 * below.  All problems are collected, none stops the scan.
 */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include "ikasq/config.h"
#include "ikasq/extract.h"
#include "ikasq/log.h"

enum key_type {
	T_STR,		/* any text */
	T_INT,		/* integer in [min, max] */
	T_DURATION,	/* seconds in [min, max]; "90", "10m", "1h", "7d" */
	T_BOOL,		/* yes/no, true/false, on/off, 1/0 */
	T_ENUM,		/* one of choices ("a|b|c") */
	T_SECRET,	/* text that must never be shown */
	T_COMMAND,	/* shell command whose first output line is a secret */
	T_LIST,		/* "a;b;c" */
	T_CONNINFO,	/* libpq connection string or URI; may hold a password */
	T_IDENT,	/* SQL identifier: [a-z_][a-z0-9_]* */
	T_SIZE,		/* bytes in [min, max]; "500k", "25M", "1G" */
	T_REGEX_LIST,	/* ';'-separated PCRE2 patterns ({N}: a number) */
};

struct keydef {
	const char *group;	/* "imap:*" matches every [imap:NAME] */
	const char *key;
	int type;
	const char *def;	/* default as text; NULL: unset */
	long long min, max;
	const char *choices;
};

#define DAY 86400LL
static const struct keydef keys[] = {
	{ "general", "log", T_ENUM, "stderr", 0, 0, "stderr|syslog" },
	{ "general", "log_level", T_ENUM, "info", 0, 0,
	  "error|warn|info|debug" },
	{ "general", "syslog_facility", T_ENUM, "mail", 0, 0,
	  "mail|daemon|user|local0|local1|local2|local3|local4|local5|local6|local7" },

	{ "database", "conninfo", T_CONNINFO, "", 0, 0, NULL },
	{ "database", "password", T_SECRET, NULL, 0, 0, NULL },
	{ "database", "password_command", T_COMMAND, NULL, 0, 0, NULL },
	{ "database", "schema", T_IDENT, "public", 0, 0, NULL },
	{ "database", "connect_timeout", T_DURATION, "10s", 1, 3600, NULL },

	{ "queue", "max_attempts", T_INT, "3", 1, 100, NULL },
	{ "queue", "lease", T_DURATION, "5m", 1, DAY, NULL },
	{ "queue", "backoff_max", T_DURATION, "1d", 60, 30 * DAY, NULL },
	{ "queue", "backoff_unit", T_DURATION, "60s", 1, 3600, NULL },
	{ "queue", "keep_finished", T_DURATION, "7d", 0, 3650 * DAY, NULL },
	{ "queue", "max_rescues", T_INT, "5", 1, 100, NULL },

	{ "cache", "ttl", T_DURATION, "1h", 1, 30 * DAY, NULL },
	{ "cache", "negative_ttl", T_DURATION, "10m", 1, 30 * DAY, NULL },

	{ "extract", "patterns", T_REGEX_LIST, "", 0, 0, NULL },
	{ "extract", "weak_patterns", T_REGEX_LIST, "", 0, 0, NULL },
	{ "extract", "veto_words", T_LIST, "", 0, 0, NULL },
	{ "extract", "min_digits", T_INT, "4", 1, 18, NULL },
	{ "extract", "max_digits", T_INT, "9", 1, 18, NULL },

	{ "ingest", "priority", T_INT, "5", 0, 10, NULL },
	{ "ingest", "bulk_priority", T_INT, "0", 0, 10, NULL },
	{ "ingest", "max_size", T_SIZE, "25M", 1024, 1LL << 31, NULL },
	{ "ingest", "raw_dir", T_STR, "", 0, 0, NULL },

	{ "ikas", "store", T_STR, NULL, 0, 0, NULL },
	{ "ikas", "client_id", T_STR, NULL, 0, 0, NULL },
	{ "ikas", "client_secret", T_SECRET, NULL, 0, 0, NULL },
	{ "ikas", "client_secret_command", T_COMMAND, NULL, 0, 0, NULL },
	{ "ikas", "token_url", T_STR,
	  "https://{store}.myikas.com/api/admin/oauth/token", 0, 0, NULL },
	{ "ikas", "graphql_url", T_STR,
	  "https://api.myikas.com/api/v1/admin/graphql", 0, 0, NULL },
	{ "ikas", "batch_size", T_INT, "50", 1, 200, NULL },
	{ "ikas", "rate_limit", T_INT, "120", 1, 100000, NULL },
	{ "ikas", "rate_window", T_DURATION, "60s", 1, 3600, NULL },
	{ "ikas", "burst", T_INT, "10", 1, 10000, NULL },
	{ "ikas", "timeout", T_DURATION, "30s", 1, 600, NULL },
	{ "ikas", "connect_timeout", T_DURATION, "10s", 1, 600, NULL },
	{ "ikas", "ca_file", T_STR, "", 0, 0, NULL },
	{ "ikas", "max_wait", T_DURATION, "10s", 0, 3600, NULL },

	{ "ai", "base_url", T_STR, NULL, 0, 0, NULL },
	{ "ai", "model", T_STR, NULL, 0, 0, NULL },
	{ "ai", "api_key", T_SECRET, NULL, 0, 0, NULL },
	{ "ai", "api_key_command", T_COMMAND, NULL, 0, 0, NULL },
	{ "ai", "temperature", T_STR, "0.3", 0, 0, NULL },
	{ "ai", "max_tokens", T_INT, "600", 1, 100000, NULL },
	{ "ai", "timeout", T_DURATION, "60s", 1, 600, NULL },
	{ "ai", "retries", T_INT, "2", 0, 10, NULL },
	{ "ai", "ca_file", T_STR, "", 0, 0, NULL },

	{ "reply", "shop_name", T_STR, "mağazamız", 0, 0, NULL },
	{ "reply", "system_prompt_file", T_STR, "", 0, 0, NULL },
	{ "reply", "wait", T_DURATION, "5s", 0, 300, NULL },
	{ "reply", "require_sender_match", T_BOOL, "yes", 0, 0, NULL },
	{ "reply", "include_phone", T_BOOL, "no", 0, 0, NULL },

	{ "worker", "claim_batch", T_INT, "200", 1, 10000, NULL },
	{ "worker", "max_jobs", T_INT, "10", 1, 1000000, NULL },
	{ "worker", "check_interval", T_DURATION, "5s", 1, 3600, NULL },

	{ "imap:*", "host", T_STR, NULL, 0, 0, NULL },
	{ "imap:*", "port", T_INT, NULL, 1, 65535, NULL },
	{ "imap:*", "tls", T_ENUM, "imaps", 0, 0, "imaps|starttls|none" },
	{ "imap:*", "allow_plaintext", T_BOOL, "no", 0, 0, NULL },
	{ "imap:*", "user", T_STR, NULL, 0, 0, NULL },
	{ "imap:*", "password", T_SECRET, NULL, 0, 0, NULL },
	{ "imap:*", "password_command", T_COMMAND, NULL, 0, 0, NULL },
	{ "imap:*", "auth", T_ENUM, "login", 0, 0, "login|plain|xoauth2" },
	{ "imap:*", "oauth2_token", T_SECRET, NULL, 0, 0, NULL },
	{ "imap:*", "oauth2_token_command", T_COMMAND, NULL, 0, 0, NULL },
	{ "imap:*", "mailboxes", T_LIST, "INBOX", 0, 0, NULL },
	{ "imap:*", "ca_file", T_STR, "", 0, 0, NULL },
	{ "imap:*", "after_ingest", T_STR, "none", 0, 0, NULL },
	{ "imap:*", "batch_size", T_INT, "100", 1, 10000, NULL },
	{ "imap:*", "timeout", T_DURATION, "30s", 1, 600, NULL },
	{ "imap:*", "poll_interval", T_DURATION, "60s", 1, 86400, NULL },
	{ "imap:*", "keepalive", T_DURATION, "30s", 5, 1500, NULL },
};

/* Sections a file may name; a trailing ":" means [name:INSTANCE]. */
static const char *const known_groups[] = {
	"general", "database", "queue", "cache", "extract", "ingest", "ikas",
	"worker", "ai", "reply",
};

struct value {
	char *group;
	char *key;
	char *text;
	int line;
};

struct config {
	char *path;		/* NULL: defaults only */
	struct value *v;
	size_t nv;
	GKeyFile *kf;
};

static const struct keydef *
keydef_find(const char *group, const char *key)
{
	const char *colon = strchr(group, ':');
	size_t glen = colon ? (size_t)(colon - group) : strlen(group);
	size_t i;

	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *kg = keys[i].group;
		const char *kc = strchr(kg, ':');

		if (strcmp(keys[i].key, key) != 0)
			continue;
		if (colon != NULL && kc != NULL &&
		    (size_t)(kc - kg) == glen && strncmp(kg, group, glen) == 0)
			return &keys[i];
		if (colon == NULL && kc == NULL && strcmp(kg, group) == 0)
			return &keys[i];
	}
	return NULL;
}

static bool
group_known(const char *group)
{
	const char *colon = strchr(group, ':');
	size_t i;

	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *kg = keys[i].group;
		const char *kc = strchr(kg, ':');

		if (colon == NULL && kc == NULL && strcmp(kg, group) == 0)
			return true;
		if (colon != NULL && kc != NULL && kc - kg == colon - group &&
		    strncmp(kg, group, (size_t)(kc - kg)) == 0)
			return true;
	}
	for (i = 0; i < ARRAY_SIZE(known_groups); i++)
		if (strcmp(known_groups[i], group) == 0)
			return true;
	return false;
}

static bool
instance_name_valid(const char *s)
{
	if (*s == '\0' || strlen(s) > 64)
		return false;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' &&
		    *s != '.')
			return false;
	return true;
}

static const struct value *
value_find(const struct config *cfg, const char *group, const char *key)
{
	size_t i;

	for (i = 0; i < cfg->nv; i++)
		if (strcmp(cfg->v[i].group, group) == 0 &&
		    strcmp(cfg->v[i].key, key) == 0)
			return &cfg->v[i];
	return NULL;
}

static bool
parse_bool(const char *s, bool *out)
{
	static const char *yes[] = { "yes", "true", "on", "1" };
	static const char *no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(yes); i++) {
		if (g_ascii_strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (g_ascii_strcasecmp(s, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

static bool
enum_has(const char *choices, const char *s)
{
	size_t n = strlen(s);
	const char *p = choices;

	while (*p != '\0') {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);

		if (len == n && strncmp(p, s, n) == 0)
			return true;
		p += len;
		if (*p == '|')
			p++;
	}
	return false;
}

/*
 * Locate the password in a libpq connection string.  Sets *start and *len to
 * the password's bytes; false when there is none.  Handles URIs
 * (postgresql://user:pw@host/db?password=pw) and key=value strings.
 */
static bool
conninfo_password_span(const char *s, size_t *start, size_t *len)
{
	const char *p;

	if (strncmp(s, "postgresql://", 13) == 0 ||
	    strncmp(s, "postgres://", 11) == 0) {
		const char *auth = strstr(s, "://") + 3;
		const char *end = auth + strcspn(auth, "/?");
		const char *at = memchr(auth, '@', (size_t)(end - auth));
		const char *colon;

		if (at != NULL) {
			colon = memchr(auth, ':', (size_t)(at - auth));
			if (colon != NULL && colon + 1 < at) {
				*start = (size_t)(colon + 1 - s);
				*len = (size_t)(at - colon - 1);
				return true;
			}
		}
		for (p = strchr(end, '?'); p != NULL; p = strchr(p, '&')) {
			p++;
			if (strncmp(p, "password=", 9) == 0) {
				*start = (size_t)(p + 9 - s);
				*len = strcspn(p + 9, "&");
				return *len > 0;
			}
		}
		return false;
	}
	p = s;
	for (;;) {
		const char *k, *v;
		size_t klen;

		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			return false;
		k = p;
		while (*p != '\0' && *p != '=' && !isspace((unsigned char)*p))
			p++;
		klen = (size_t)(p - k);
		while (isspace((unsigned char)*p))
			p++;
		if (*p != '=')
			return false;
		p++;
		while (isspace((unsigned char)*p))
			p++;
		v = p;
		if (*p == '\'') {
			for (p++; *p != '\0' && *p != '\''; p++)
				if (*p == '\\' && p[1] != '\0')
					p++;
			if (*p == '\'')
				p++;
		} else {
			while (*p != '\0' && !isspace((unsigned char)*p))
				p++;
		}
		if (klen == 8 && strncmp(k, "password", 8) == 0 && p > v) {
			*start = (size_t)(v - s);
			*len = (size_t)(p - v);
			return true;
		}
	}
}

static char *
conninfo_masked(const char *s)
{
	size_t start, len;

	if (!conninfo_password_span(s, &start, &len))
		return xstrdup(s);
	return xasprintf("%.*s********%s", (int)start, s, s + start + len);
}

/*
 * Split a list value on ';'.  Backslashes are kept as written, so that a
 * pattern reads "\d" as a digit; "\;" is a literal ';'.  Items are trimmed,
 * empty ones dropped.  NULL-terminated; free with strv_free().
 */
static char **
split_list(const char *text)
{
	struct strbuf item = STRBUF_INIT;
	char **out = xcalloc(strlen(text) / 2 + 2, sizeof(char *));
	size_t n = 0;
	const char *p;

	sb_init(&item);
	for (p = text;; p++) {
		if (*p == '\\' && p[1] == ';') {
			sb_addc(&item, ';');
			p++;
			continue;
		}
		if (*p == ';' || *p == '\0') {
			char *t = g_strstrip(item.buf);

			if (*t != '\0')
				out[n++] = xstrdup(t);
			sb_reset(&item);
			if (*p == '\0')
				break;
			continue;
		}
		sb_addc(&item, *p);
	}
	sb_release(&item);
	return out;
}

/* Each pattern of a list must compile, with {N} standing for a number;
 * a message naming the first that does not. */
static char *
check_regex_list(const char *text)
{
	char **list = split_list(text), *why = NULL;
	size_t i;

	for (i = 0; list[i] != NULL && why == NULL; i++)
		why = extract_pattern_problem(list[i]);
	strv_free(list);
	return why;
}

/* Bytes with an optional k, M or G (powers of 1024). */
static bool
parse_size(const char *s, int64_t *out)
{
	size_t n = strlen(s);
	int64_t mul = 1, v;
	char *num;
	bool ok;

	if (n > 0 && strchr("kKmMgG", s[n - 1]) != NULL) {
		mul = s[n - 1] == 'k' || s[n - 1] == 'K' ? 1024 :
		    s[n - 1] == 'm' || s[n - 1] == 'M' ? 1024 * 1024 :
		    1024 * 1024 * 1024;
		n--;
	}
	num = xstrndup(s, n);
	ok = parse_duration(num, &v) && strspn(num, "0123456789") == n &&
	    v <= INT64_MAX / mul;
	free(num);
	if (ok)
		*out = v * mul;
	return ok;
}

/* Check one value against its definition; a message on failure. */
static char *
check_value(const struct keydef *kd, const char *text)
{
	int64_t secs;
	long iv;
	bool b;
	const char *p;

	switch (kd->type) {
	case T_INT:
		if (!parse_int(text, (long)kd->min, (long)kd->max, &iv))
			return xasprintf("'%s' is not an integer in %lld..%lld",
			    text, kd->min, kd->max);
		break;
	case T_DURATION:
		if (!parse_duration(text, &secs))
			return xasprintf("'%s' is not a duration (like 90s, "
			    "10m, 1h, 7d)", text);
		if (secs < kd->min || secs > kd->max) {
			char *lo = format_duration(kd->min);
			char *hi = format_duration(kd->max);
			char *m = xasprintf("'%s' is outside %s..%s", text,
			    lo, hi);

			free(lo);
			free(hi);
			return m;
		}
		break;
	case T_BOOL:
		if (!parse_bool(text, &b))
			return xasprintf("'%s' is not yes or no", text);
		break;
	case T_ENUM:
		if (!enum_has(kd->choices, text))
			return xasprintf("'%s' is not one of %s", text,
			    kd->choices);
		break;
	case T_IDENT:
		if (!(islower((unsigned char)text[0]) || text[0] == '_') ||
		    strlen(text) > 63)
			return xasprintf("'%s' is not a lower-case SQL name",
			    text);
		for (p = text; *p != '\0'; p++)
			if (!islower((unsigned char)*p) &&
			    !isdigit((unsigned char)*p) && *p != '_')
				return xasprintf("'%s' is not a lower-case SQL "
				    "name", text);
		break;
	case T_COMMAND:
		if (*text == '\0')
			return xstrdup("empty command");
		break;
	case T_STR:
		if (strcmp(kd->key, "temperature") == 0) {
			char *end;
			double t = strtod(text, &end);

			if (*text == '\0' || *end != '\0' || t < 0 || t > 2)
				return xasprintf("'%s' is not a number in 0..2",
				    text);
		}
		if (strcmp(kd->key, "after_ingest") == 0 &&
		    strcmp(text, "none") != 0 && strcmp(text, "seen") != 0 &&
		    (strncmp(text, "move:", 5) != 0 || text[5] == '\0'))
			return xasprintf("'%s' is not none, seen or "
			    "move:FOLDER", text);
		break;
	case T_SIZE:
		if (!parse_size(text, &secs))
			return xasprintf("'%s' is not a size (like 500k, 25M, "
			    "1G)", text);
		if (secs < kd->min || secs > kd->max)
			return xasprintf("'%s' is outside %lld..%lld bytes",
			    text, kd->min, kd->max);
		break;
	case T_REGEX_LIST:
		return check_regex_list(text);
	default:
		break;
	}
	return NULL;
}

static bool
holds_secret(const struct keydef *kd, const char *text)
{
	size_t s, l;

	if (kd->type == T_SECRET)
		return *text != '\0';
	if (kd->type == T_CONNINFO)
		return conninfo_password_span(text, &s, &l);
	return false;
}

/* A group/key/line found by the line scan. */
struct seen {
	char *group;
	char *key;
	char *raw;		/* the value as written */
	int line;
	int dup_of;		/* line of the first occurrence, or 0 */
};

static void
seen_free(struct seen *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].group);
		free(v[i].key);
		if (v[i].raw != NULL) {
			explicit_bzero(v[i].raw, strlen(v[i].raw));
			free(v[i].raw);
		}
	}
	free(v);
}

/*
 * The line scan: syntax, unknown sections and keys.  Fills keys_out with
 * every line that sets a known key, duplicates marked.  Returns the number of
 * syntax errors (which stop GKeyFile from reading the file at all).
 */
static int
scan_lines(const char *path, const char *text, size_t len,
	   struct seen **keys_out, size_t *nkeys, struct strbuf *problems,
	   int *nproblems)
{
	const char *p = text, *end = text + len;
	char *group = NULL;
	bool group_ok = false;
	struct seen *seen = NULL;
	size_t nseen = 0;
	int lineno = 0, syntax = 0;
	const char *nul = memchr(text, '\0', len);

	if (nul != NULL) {
		int n = 1;

		for (p = text; p < nul; p++)
			n += *p == '\n';
		sb_addf(problems, "%s:%d: NUL byte in a text file\n", path, n);
		(*nproblems)++;
		*keys_out = NULL;
		*nkeys = 0;
		return 1;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		char *line, *s, *eq;
		size_t i;

		lineno++;
		line = xstrndup(p, (size_t)(le - p));
		p = nl ? nl + 1 : end;
		s = g_strstrip(line);
		if (*s == '\0' || *s == '#') {
			free(line);
			continue;
		}
		if (!g_utf8_validate(s, -1, NULL)) {
			sb_addf(problems, "%s:%d: not valid UTF-8\n", path,
			    lineno);
			(*nproblems)++;
			syntax++;
			free(line);
			continue;
		}
		if (*s == '[') {
			char *close = strchr(s, ']');

			free(group);
			group = NULL;
			group_ok = false;
			if (close == NULL || close[1] != '\0' || close == s + 1) {
				sb_addf(problems, "%s:%d: bad section header "
				    "'%s'\n", path, lineno, s);
				(*nproblems)++;
				syntax++;
				free(line);
				continue;
			}
			group = xstrndup(s + 1, (size_t)(close - s - 1));
			if (!group_known(group)) {
				sb_addf(problems, "%s:%d: unknown section "
				    "[%s]\n", path, lineno, group);
				(*nproblems)++;
			} else if (strchr(group, ':') != NULL &&
			    !instance_name_valid(strchr(group, ':') + 1)) {
				sb_addf(problems, "%s:%d: bad name in section "
				    "[%s]: use letters, digits, '-', '_', "
				    "'.'\n", path, lineno, group);
				(*nproblems)++;
			} else {
				group_ok = true;
			}
			free(line);
			continue;
		}
		eq = strchr(s, '=');
		if (eq == NULL || eq == s) {
			sb_addf(problems, "%s:%d: expected 'key = value', "
			    "found '%s'\n", path, lineno, s);
			(*nproblems)++;
			syntax++;
			free(line);
			continue;
		}
		*eq = '\0';
		g_strchomp(s);
		if (group == NULL) {
			sb_addf(problems, "%s:%d: key '%s' is outside any "
			    "[section]\n", path, lineno, s);
			(*nproblems)++;
			syntax++;
			free(line);
			continue;
		}
		if (!group_ok) {
			free(line);
			continue;
		}
		if (keydef_find(group, s) == NULL) {
			sb_addf(problems, "%s:%d: unknown key '%s' in [%s]\n",
			    path, lineno, s, group);
			(*nproblems)++;
			free(line);
			continue;
		}
		for (i = 0; i < nseen; i++)
			if (strcmp(seen[i].group, group) == 0 &&
			    strcmp(seen[i].key, s) == 0)
				break;
		seen = xrealloc(seen, (nseen + 1) * sizeof(*seen));
		seen[nseen].group = xstrdup(group);
		seen[nseen].key = xstrdup(s);
		seen[nseen].raw = xstrdup(g_strchug(eq + 1));
		seen[nseen].line = lineno;
		seen[nseen].dup_of = i < nseen ? seen[i].line : 0;
		nseen++;
		explicit_bzero(line, strlen(line));
		free(line);
	}
	free(group);
	*keys_out = seen;
	*nkeys = nseen;
	return syntax;
}

static struct config *
config_new(const char *path)
{
	struct config *cfg = xcalloc(1, sizeof(*cfg));

	cfg->path = path ? xstrdup(path) : NULL;
	return cfg;
}

struct config *
config_defaults(void)
{
	return config_new(NULL);
}

void
config_free(struct config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->nv; i++) {
		free(cfg->v[i].group);
		free(cfg->v[i].key);
		if (cfg->v[i].text != NULL) {
			explicit_bzero(cfg->v[i].text, strlen(cfg->v[i].text));
			free(cfg->v[i].text);
		}
	}
	free(cfg->v);
	if (cfg->kf != NULL)
		g_key_file_free(cfg->kf);
	free(cfg->path);
	free(cfg);
}

/* One value as GKeyFile reads it (escapes such as \s, \n, \\ undone). */
static char *
decode_value(const char *raw, GError **gerr)
{
	GKeyFile *kf = g_key_file_new();
	char *v;

	g_key_file_set_value(kf, "v", "v", raw);
	v = g_key_file_get_string(kf, "v", "v", gerr);
	g_key_file_free(kf);
	/* on a bad escape GLib sets the error and still returns a value */
	if (v != NULL && gerr != NULL && *gerr != NULL) {
		g_free(v);
		v = NULL;
	}
	/* GLib's message names its own scratch key "v": say what it means */
	if (v == NULL && gerr != NULL && *gerr != NULL) {
		g_clear_error(gerr);
		g_set_error_literal(gerr, G_KEY_FILE_ERROR,
		    G_KEY_FILE_ERROR_INVALID_VALUE, "an escape other than "
		    "\\s \\n \\t \\r \\\\ (write \\\\ for a "
		    "backslash)");
	}
	return v;
}

/* Parse and validate; *secret_line > 0 names the first line holding a
 * secret, *command_line the first holding a command. */
static int
load_text(const char *path, const char *text, size_t len,
	  struct config **out, struct strbuf *problems, int *secret_line,
	  int *command_line)
{
	struct config *cfg;
	struct seen *seen = NULL;
	size_t nseen = 0, i;
	int nproblems = 0, syntax;
	GError *gerr = NULL;

	*out = NULL;
	*secret_line = *command_line = 0;
	syntax = scan_lines(path, text, len, &seen, &nseen, problems,
	    &nproblems);
	if (syntax > 0) {
		seen_free(seen, nseen);
		return IKASQ_ECONFIG;
	}
	cfg = config_new(path);
	cfg->kf = g_key_file_new();
	if (!g_key_file_load_from_data(cfg->kf, text, len, G_KEY_FILE_NONE,
	    &gerr)) {
		sb_addf(problems, "%s: %s\n", path, gerr->message);
		g_error_free(gerr);
		seen_free(seen, nseen);
		config_free(cfg);
		return IKASQ_ECONFIG;
	}
	cfg->v = xcalloc(nseen ? nseen : 1, sizeof(*cfg->v));
	for (i = 0; i < nseen; i++) {
		const struct keydef *kd = keydef_find(seen[i].group,
		    seen[i].key);
		char *text_v, *why;

		/* lists keep their backslashes (patterns need them) */
		if (kd->type == T_LIST || kd->type == T_REGEX_LIST)
			text_v = g_strdup(seen[i].raw);
		else
			text_v = decode_value(seen[i].raw, &gerr);
		if (text_v == NULL) {
			sb_addf(problems, "%s:%d: bad value for '%s' in [%s]: "
			    "%s\n", path, seen[i].line, seen[i].key,
			    seen[i].group, gerr->message);
			g_clear_error(&gerr);
			nproblems++;
			continue;
		}
		/* GKeyFile keeps trailing blanks; nobody means them */
		g_strchomp(text_v);
		why = check_value(kd, text_v);
		if (why != NULL) {
			/* never echo a secret back, even a malformed one */
			sb_addf(problems, "%s:%d: bad value for '%s' in [%s]: "
			    "%s\n", path, seen[i].line, seen[i].key,
			    seen[i].group, why);
			free(why);
			g_free(text_v);
			nproblems++;
			continue;
		}
		if (seen[i].dup_of > 0) {
			sb_addf(problems, "%s:%d: duplicate key '%s' in [%s] "
			    "(first at line %d)\n", path, seen[i].line,
			    seen[i].key, seen[i].group, seen[i].dup_of);
			nproblems++;
			explicit_bzero(text_v, strlen(text_v));
			g_free(text_v);
			continue;
		}
		if (holds_secret(kd, text_v) && *secret_line == 0)
			*secret_line = seen[i].line;
		if (kd->type == T_COMMAND && *command_line == 0)
			*command_line = seen[i].line;
		cfg->v[cfg->nv].group = seen[i].group;
		cfg->v[cfg->nv].key = seen[i].key;
		cfg->v[cfg->nv].text = xstrdup(text_v);
		cfg->v[cfg->nv].line = seen[i].line;
		seen[i].group = seen[i].key = NULL;
		cfg->nv++;
		explicit_bzero(text_v, strlen(text_v));
		g_free(text_v);
	}
	seen_free(seen, nseen);
	if (nproblems > 0) {
		config_free(cfg);
		return IKASQ_ECONFIG;
	}
	*out = cfg;
	return IKASQ_OK;
}

int
config_load_text(const char *path, const char *text, size_t len,
		 struct config **out, struct strbuf *problems)
{
	int s, c;

	return load_text(path, text, len, out, problems, &s, &c);
}

static int
load_file(const char *path, struct config **out, struct strbuf *problems)
{
	struct strbuf text = STRBUF_INIT;
	struct stat st;
	int fd, rc, secret_line, command_line;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		sb_addf(problems, "cannot read '%s': %s\n", path,
		    strerror(errno));
		return IKASQ_ECONFIG;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		sb_addf(problems, "cannot read '%s': not a regular file\n",
		    path);
		close(fd);
		return IKASQ_ECONFIG;
	}
	sb_init(&text);
	if (!read_all_fd(fd, &text)) {
		sb_addf(problems, "cannot read '%s': %s\n", path,
		    strerror(errno));
		close(fd);
		sb_release(&text);
		return IKASQ_ECONFIG;
	}
	close(fd);
	rc = load_text(path, text.buf, text.len, out, problems, &secret_line,
	    &command_line);
	explicit_bzero(text.buf, text.len);
	sb_release(&text);
	if (rc != IKASQ_OK)
		return rc;
	/* fetchmail's rule: a file holding a password is private */
	if (secret_line > 0 && (st.st_mode & (S_IRGRP | S_IROTH))) {
		sb_addf(problems, "%s:%d: holds a secret but the file is "
		    "readable by group or others (mode %03o); run "
		    "'chmod 600 %s'\n", path, secret_line,
		    (unsigned)(st.st_mode & 0777), path);
		config_free(*out);
		*out = NULL;
		return IKASQ_ECONFIG;
	}
	/* a command in a file others can write runs their code as us */
	if (command_line > 0 && (st.st_mode & (S_IWGRP | S_IWOTH))) {
		sb_addf(problems, "%s:%d: names a command but the file is "
		    "writable by group or others (mode %03o); run "
		    "'chmod 600 %s'\n", path, command_line,
		    (unsigned)(st.st_mode & 0777), path);
		config_free(*out);
		*out = NULL;
		return IKASQ_ECONFIG;
	}
	return IKASQ_OK;
}

int
config_load(const char *explicit_path, struct config **out,
	    struct strbuf *problems)
{
	const char *env, *home, *xdg;
	char *user_path = NULL;
	int rc;

	*out = NULL;
	if (explicit_path != NULL)
		return load_file(explicit_path, out, problems);
	env = getenv("IKASQ_CONFIG");
	if (env != NULL && *env != '\0')
		return load_file(env, out, problems);
	xdg = getenv("XDG_CONFIG_HOME");
	home = getenv("HOME");
	if (xdg != NULL && *xdg == '/')
		user_path = xasprintf("%s/ikasq/ikasq.conf", xdg);
	else if (home != NULL && *home != '\0')
		user_path = xasprintf("%s/.config/ikasq/ikasq.conf", home);
	if (user_path != NULL && access(user_path, F_OK) == 0) {
		rc = load_file(user_path, out, problems);
		free(user_path);
		return rc;
	}
	free(user_path);
	/* the configured sysconfdir (/usr/local/etc by default), then /etc */
	if (access(SYSCONFDIR "/ikasq/ikasq.conf", F_OK) == 0)
		return load_file(SYSCONFDIR "/ikasq/ikasq.conf", out,
		    problems);
	if (access("/etc/ikasq/ikasq.conf", F_OK) == 0)
		return load_file("/etc/ikasq/ikasq.conf", out, problems);
	*out = config_defaults();
	return IKASQ_OK;
}

const char *
config_path(const struct config *cfg)
{
	return cfg->path;
}

static const struct keydef *
keydef_must(const char *group, const char *key)
{
	const struct keydef *kd = keydef_find(group, key);

	if (kd == NULL) {
		fprintf(stderr, "ikasq: internal error: no setting '%s' in "
		    "[%s]\n", key, group);
		abort();
	}
	return kd;
}

const char *
config_str(const struct config *cfg, const char *group, const char *key)
{
	const struct keydef *kd = keydef_must(group, key);
	const struct value *v = value_find(cfg, group, key);

	return v != NULL ? v->text : kd->def;
}

long
config_int(const struct config *cfg, const char *group, const char *key)
{
	const char *s = config_str(cfg, group, key);
	long v = 0;

	if (s == NULL || !parse_int(s, LONG_MIN, LONG_MAX, &v))
		return 0;
	return v;
}

int64_t
config_duration(const struct config *cfg, const char *group, const char *key)
{
	const char *s = config_str(cfg, group, key);
	int64_t v = 0;

	if (s == NULL || !parse_duration(s, &v))
		return 0;
	return v;
}

int64_t
config_size(const struct config *cfg, const char *group, const char *key)
{
	const char *s = config_str(cfg, group, key);
	int64_t v = 0;

	if (s == NULL || !parse_size(s, &v))
		return 0;
	return v;
}

bool
config_bool(const struct config *cfg, const char *group, const char *key)
{
	const char *s = config_str(cfg, group, key);
	bool b = false;

	if (s != NULL)
		parse_bool(s, &b);
	return b;
}

char **
config_list(const struct config *cfg, const char *group, const char *key)
{
	const char *s = config_str(cfg, group, key);

	return split_list(s != NULL ? s : "");
}

void
strv_free(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

char *
config_env_name(const char *group, const char *key)
{
	char *name = xasprintf("IKASQ_%s_%s", group, key), *p;

	for (p = name; *p != '\0'; p++)
		*p = isalnum((unsigned char)*p) ?
		    (char)toupper((unsigned char)*p) : '_';
	return name;
}

/* Run a secret command with /bin/sh; first line of its output. */
static int
run_secret_command(const char *cmd, const char *what, char **value,
		   struct ikasq_err *err)
{
	struct strbuf out = STRBUF_INIT;
	int pfd[2], status;
	pid_t pid;
	bool ok;
	size_t n;

	if (pipe(pfd) != 0)
		return err_set(err, IKASQ_EIO, "cannot run %s: %s", what,
		    strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return err_set(err, IKASQ_EIO, "cannot run %s: %s", what,
		    strerror(errno));
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	sb_init(&out);
	ok = read_all_fd(pfd[0], &out);
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		explicit_bzero(out.buf, out.len);
		sb_release(&out);
		if (WIFEXITED(status))
			return err_set(err, IKASQ_ECONFIG, "%s failed with "
			    "exit status %d", what, WEXITSTATUS(status));
		return err_set(err, IKASQ_ECONFIG, "%s was killed by signal "
		    "%d", what, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	}
	n = strcspn(out.buf, "\r\n");
	if (n == 0) {
		sb_release(&out);
		return err_set(err, IKASQ_ECONFIG, "%s printed nothing",
		    what);
	}
	*value = xstrndup(out.buf, n);
	explicit_bzero(out.buf, out.len);
	sb_release(&out);
	return IKASQ_OK;
}

/* Where a secret comes from: 'e'nv, 'f'ile, 'c'ommand, or 0 for unset. */
static int
secret_source(const struct config *cfg, const char *group, const char *key,
	      char **envname, const char **cmd)
{
	const struct value *v;
	char *ckey;
	const char *e;

	*envname = config_env_name(group, key);
	*cmd = NULL;
	e = getenv(*envname);
	if (e != NULL && *e != '\0')
		return 'e';
	v = value_find(cfg, group, key);
	if (v != NULL && *v->text != '\0')
		return 'f';
	ckey = xasprintf("%s_command", key);
	if (keydef_find(group, ckey) != NULL) {
		v = value_find(cfg, group, ckey);
		if (v != NULL) {
			*cmd = v->text;
			free(ckey);
			return 'c';
		}
	}
	free(ckey);
	return 0;
}

int
config_secret(const struct config *cfg, const char *group, const char *key,
	      char **value, struct ikasq_err *err)
{
	const char *cmd;
	char *envname, *what;
	int rc = IKASQ_OK;

	*value = NULL;
	switch (secret_source(cfg, group, key, &envname, &cmd)) {
	case 'e':
		*value = xstrdup(getenv(envname));
		break;
	case 'f':
		*value = xstrdup(value_find(cfg, group, key)->text);
		break;
	case 'c':
		what = xasprintf("'%s_command' in [%s]", key, group);
		rc = run_secret_command(cmd, what, value, err);
		free(what);
		break;
	}
	free(envname);
	return rc;
}

char **
config_groups(const struct config *cfg, const char *prefix)
{
	size_t plen = strlen(prefix), i, j, n = 0;
	char **out = xcalloc(cfg->nv + 1, sizeof(char *));
	gchar **groups;
	gsize ng = 0;

	if (cfg->kf == NULL)
		return out;
	/* from the key file, so a section with no keys still counts */
	groups = g_key_file_get_groups(cfg->kf, &ng);
	out = xrealloc(out, (ng + 1) * sizeof(char *));
	for (i = 0; i < ng; i++) {
		if (strncmp(groups[i], prefix, plen) != 0 ||
		    groups[i][plen] != ':')
			continue;
		for (j = 0; j < n; j++)
			if (strcmp(out[j], groups[i] + plen + 1) == 0)
				break;
		if (j == n)
			out[n++] = xstrdup(groups[i] + plen + 1);
	}
	out[n] = NULL;
	g_strfreev(groups);
	return out;
}

static void
dump_group(const struct config *cfg, const char *group, const char *pattern,
	   struct strbuf *out, struct ikasq_err *err, int *rc)
{
	size_t i;

	sb_addf(out, "\n[%s]\n", group);
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		const struct keydef *kd = &keys[i];
		const struct value *v;
		const char *cmd;
		char *envname, *secret = NULL, *m;
		int src;

		if (strcmp(kd->group, pattern) != 0)
			continue;
		v = value_find(cfg, group, kd->key);
		if (kd->type == T_SECRET) {
			src = secret_source(cfg, group, kd->key, &envname,
			    &cmd);
			if (src == 'c') {
				struct ikasq_err e;

				if (config_secret(cfg, group, kd->key, &secret,
				    &e) != IKASQ_OK) {
					sb_addf(out, "# %s = (error: %s)\n",
					    kd->key, e.msg);
					if (*rc == IKASQ_OK)
						*rc = err_set(err, e.rc, "%s",
						    e.msg);
					free(envname);
					continue;
				}
				explicit_bzero(secret, strlen(secret));
				free(secret);
			}
			if (src == 0)
				sb_addf(out, "# %s = (not set)\n", kd->key);
			else
				sb_addf(out, "%s = ******** (from %s%s)\n",
				    kd->key, src == 'e' ? "$" : "",
				    src == 'e' ? envname :
				    src == 'f' ? "this file" :
				    "the command");
			free(envname);
			continue;
		}
		if (v == NULL && kd->def == NULL) {
			sb_addf(out, "# %s = (not set)\n", kd->key);
			continue;
		}
		if (kd->type == T_CONNINFO) {
			m = conninfo_masked(v ? v->text : kd->def);
			sb_addf(out, "%s = %s%s\n", kd->key, m,
			    v ? "" : "  # default: libpq's PG* environment");
			free(m);
			continue;
		}
		sb_addf(out, "%s = %s%s\n", kd->key, v ? v->text : kd->def,
		    v ? "" : "  # default");
	}
}

int
config_dump(const struct config *cfg, struct strbuf *out,
	    struct ikasq_err *err)
{
	size_t i;
	int rc = IKASQ_OK;

	sb_addf(out, "# ikasq configuration: %s\n",
	    cfg->path ? cfg->path : "no file, built-in defaults");
	for (i = 0; i < ARRAY_SIZE(known_groups); i++)
		dump_group(cfg, known_groups[i], known_groups[i], out, err,
		    &rc);
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *kc = strchr(keys[i].group, ':');
		char *prefix, **names;
		size_t j, k;
		bool first = true;

		if (kc == NULL)
			continue;
		for (k = 0; k < i; k++)
			if (strcmp(keys[k].group, keys[i].group) == 0)
				first = false;
		if (!first)
			continue;
		prefix = xstrndup(keys[i].group,
		    (size_t)(kc - keys[i].group));
		names = config_groups(cfg, prefix);
		for (j = 0; names[j] != NULL; j++) {
			char *g = xasprintf("%s:%s", prefix, names[j]);

			dump_group(cfg, g, keys[i].group, out, err, &rc);
			free(g);
		}
		strv_free(names);
		free(prefix);
	}
	return rc;
}
