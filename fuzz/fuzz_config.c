/*
 * fuzz_config.c - config_load_text(): an ikasq.conf as text, then what the
 * program does with a configuration that loads.
 *
 * The input is the file's text.  When it loads: every getter on every key
 * (for each [imap:NAME] too), the [extract] patterns compiled by
 * extractor_new() and run over a short mail when the text names
 * [extract], and config_dump() as `ikasq config check` runs it.
 *
 * No command ever runs.  A *_command key (password_command,
 * client_secret_command, api_key_command, oauth2_token_command) is a shell
 * command that config_secret() and config_dump() run with /bin/sh; a key is
 * only read when its name is spelled out in the text (the line scan compares
 * names byte for byte and GKeyFile undoes no escapes in a key), so when the
 * input holds the bytes "_command" anywhere, config_secret() and
 * config_dump() are skipped and only the getters run, which never execute
 * anything.  Variables $IKASQ_* (which override secrets) are cleared first
 * so that a run does not depend on the shell it was started from.
 *
 * Checked besides memory safety: a configuration that loads leaves
 * nothing in problems and one that does not says why in "file:line: ..."
 * lines; every value of a loaded file is within its range (what the key
 * table promises); its [extract] patterns compile in extractor_new() when
 * they passed the check at load time; config_dump() succeeds and is UTF-8.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include <glib.h>

#include "ikasq/config.h"
#include "ikasq/extract.h"
#include "fuzz.h"

enum { S, I, D, B, L, Z };	/* str, int, duration, bool, list, size */

static const struct key {
	const char *group;	/* "imap:*": every [imap:NAME] */
	const char *key;
	int type;
	long long min, max;
} keys[] = {
	{ "general", "log", S, 0, 0 },
	{ "general", "log_level", S, 0, 0 },
	{ "general", "syslog_facility", S, 0, 0 },
	{ "database", "conninfo", S, 0, 0 },
	{ "database", "schema", S, 0, 0 },
	{ "database", "connect_timeout", D, 1, 3600 },
	{ "queue", "max_attempts", I, 1, 100 },
	{ "queue", "lease", D, 1, 86400 },
	{ "queue", "backoff_max", D, 60, 30 * 86400 },
	{ "queue", "backoff_unit", D, 1, 3600 },
	{ "queue", "keep_finished", D, 0, 3650LL * 86400 },
	{ "queue", "max_rescues", I, 1, 100 },
	{ "cache", "ttl", D, 1, 30 * 86400 },
	{ "cache", "negative_ttl", D, 1, 30 * 86400 },
	{ "extract", "patterns", L, 0, 0 },
	{ "extract", "weak_patterns", L, 0, 0 },
	{ "extract", "veto_words", L, 0, 0 },
	{ "extract", "min_digits", I, 1, 18 },
	{ "extract", "max_digits", I, 1, 18 },
	{ "ingest", "priority", I, 0, 10 },
	{ "ingest", "bulk_priority", I, 0, 10 },
	{ "ingest", "max_size", Z, 1024, 1LL << 31 },
	{ "ingest", "raw_dir", S, 0, 0 },
	{ "ikas", "store", S, 0, 0 },
	{ "ikas", "client_id", S, 0, 0 },
	{ "ikas", "token_url", S, 0, 0 },
	{ "ikas", "graphql_url", S, 0, 0 },
	{ "ikas", "batch_size", I, 1, 200 },
	{ "ikas", "rate_limit", I, 1, 100000 },
	{ "ikas", "rate_window", D, 1, 3600 },
	{ "ikas", "burst", I, 1, 10000 },
	{ "ikas", "timeout", D, 1, 600 },
	{ "ikas", "connect_timeout", D, 1, 600 },
	{ "ikas", "ca_file", S, 0, 0 },
	{ "ikas", "max_wait", D, 0, 3600 },
	{ "ai", "base_url", S, 0, 0 },
	{ "ai", "model", S, 0, 0 },
	{ "ai", "temperature", S, 0, 0 },
	{ "ai", "max_tokens", I, 1, 100000 },
	{ "ai", "timeout", D, 1, 600 },
	{ "ai", "retries", I, 0, 10 },
	{ "ai", "ca_file", S, 0, 0 },
	{ "reply", "shop_name", S, 0, 0 },
	{ "reply", "system_prompt_file", S, 0, 0 },
	{ "reply", "wait", D, 0, 300 },
	{ "reply", "require_sender_match", B, 0, 0 },
	{ "reply", "include_phone", B, 0, 0 },
	{ "worker", "claim_batch", I, 1, 10000 },
	{ "worker", "max_jobs", I, 1, 1000000 },
	{ "worker", "check_interval", D, 1, 3600 },
	{ "imap:*", "host", S, 0, 0 },
	{ "imap:*", "port", I, 1, 65535 },
	{ "imap:*", "tls", S, 0, 0 },
	{ "imap:*", "allow_plaintext", B, 0, 0 },
	{ "imap:*", "user", S, 0, 0 },
	{ "imap:*", "auth", S, 0, 0 },
	{ "imap:*", "mailboxes", L, 0, 0 },
	{ "imap:*", "ca_file", S, 0, 0 },
	{ "imap:*", "after_ingest", S, 0, 0 },
	{ "imap:*", "batch_size", I, 1, 10000 },
	{ "imap:*", "timeout", D, 1, 600 },
	{ "imap:*", "poll_interval", D, 1, 86400 },
	{ "imap:*", "keepalive", D, 5, 1500 },
};

/* Secrets, which config_secret() may resolve with a command. */
static const char *const secrets[][2] = {
	{ "database", "password" }, { "ikas", "client_secret" },
	{ "ai", "api_key" }, { "imap:*", "password" },
	{ "imap:*", "oauth2_token" },
};

static const char sample_subject[] = "Sipariş no: 123456 hakkında";
static const char sample_body[] =
    "Merhaba,\n#98765 numaralı siparişim ve 55555 nolu sipariş nerede?\n"
    "Siparişlerim şunlar:\n- 1234567\n- 7654321\nFatura #4444\n";

extern char **environ;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char **names = NULL;
	size_t i, n = 0;

	(void)argc;
	(void)argv;
	/* $IKASQ_<GROUP>_<KEY> overrides a secret; none of the caller's */
	for (i = 0; environ[i] != NULL; i++)
		if (strncmp(environ[i], "IKASQ_", 6) == 0) {
			names = g_renew(char *, names, n + 1);
			names[n++] = g_strndup(environ[i],
			    strcspn(environ[i], "="));
		}
	for (i = 0; i < n; i++) {
		unsetenv(names[i]);
		g_free(names[i]);
	}
	g_free(names);
	return 0;
}

static void
check_utf8(const char *what, const char *s)
{
	FUZZ_CHECK(s == NULL || g_utf8_validate(s, -1, NULL),
	    "%s is not valid UTF-8", what);
}

/* Every getter on every key of group (pattern: its table name). */
static void
read_group(const struct config *cfg, const char *group, const char *pattern)
{
	size_t i, j;

	for (i = 0; i < G_N_ELEMENTS(keys); i++) {
		const struct key *k = &keys[i];
		const char *s;
		long long v;
		char **list;

		if (strcmp(k->group, pattern) != 0)
			continue;
		s = config_str(cfg, group, k->key);
		check_utf8(k->key, s);
		switch (k->type) {
		case I:
			v = config_int(cfg, group, k->key);
			/* a key without default (imap port) reads 0 */
			FUZZ_CHECK(s == NULL || (v >= k->min && v <= k->max),
			    "[%s] %s = %lld, outside %lld..%lld", group,
			    k->key, v, k->min, k->max);
			break;
		case D:
			v = config_duration(cfg, group, k->key);
			FUZZ_CHECK(v >= k->min && v <= k->max,
			    "[%s] %s = %lld s, outside %lld..%lld", group,
			    k->key, v, k->min, k->max);
			break;
		case Z:
			v = config_size(cfg, group, k->key);
			FUZZ_CHECK(v >= k->min && v <= k->max,
			    "[%s] %s = %lld bytes, outside %lld..%lld", group,
			    k->key, v, k->min, k->max);
			break;
		case B:
			(void)config_bool(cfg, group, k->key);
			break;
		case L:
			list = config_list(cfg, group, k->key);
			FUZZ_CHECK(list != NULL, "[%s] %s: no list", group,
			    k->key);
			for (j = 0; list[j] != NULL; j++)
				FUZZ_CHECK(list[j][0] != '\0',
				    "[%s] %s: an empty item", group, k->key);
			strv_free(list);
			break;
		}
	}
}

static void
read_secrets(const struct config *cfg, const char *group,
	     const char *pattern)
{
	struct ikasq_err err;
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(secrets); i++) {
		char *value = NULL;

		if (strcmp(secrets[i][0], pattern) != 0)
			continue;
		FUZZ_CHECK(config_secret(cfg, group, secrets[i][1], &value,
		    &err) == IKASQ_OK, "config_secret [%s] %s: %s", group,
		    secrets[i][1], err.msg);
		check_utf8(secrets[i][1], value);
		free(value);
	}
}

static void
run_extractor(const struct config *cfg)
{
	struct order_match *v = NULL;
	struct ikasq_err err;
	struct extractor *x = NULL;
	int n = 0, i;

	FUZZ_CHECK(extractor_new(cfg, &x, &err) == IKASQ_OK,
	    "the configuration loaded, but extractor_new says: %s", err.msg);
	extract_orders(x, sample_subject, sample_body, &v, &n);
	FUZZ_CHECK(n >= 0 && n <= 100, "%d order numbers", n);
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(v[i].order != NULL && v[i].evidence != NULL &&
		    v[i].where != NULL, "match %d is incomplete", i);
		check_utf8("evidence", v[i].evidence);
	}
	order_matches_free(v, n);
	extractor_free(x);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf problems, out;
	struct config *cfg = NULL;
	struct ikasq_err err;
	bool commands = memmem(data, size, "_command", 8) != NULL;
	char **names;
	size_t i;
	int rc;

	sb_init(&problems);
	rc = config_load_text("fuzz.conf", (const char *)data, size, &cfg,
	    &problems);
	if (rc != IKASQ_OK) {
		FUZZ_CHECK(cfg == NULL, "a configuration with rc %d", rc);
		FUZZ_CHECK(rc == IKASQ_ECONFIG, "rc %d", rc);
		FUZZ_CHECK(problems.len > 0 &&
		    strncmp(problems.buf, "fuzz.conf", 9) == 0 &&
		    problems.buf[problems.len - 1] == '\n',
		    "rc %d with problems '%s'", rc, problems.buf);
		sb_release(&problems);
		return 0;
	}
	FUZZ_CHECK(cfg != NULL, "IKASQ_OK without a configuration");
	FUZZ_CHECK(problems.len == 0, "loaded, with problems '%s'",
	    problems.buf);
	sb_release(&problems);
	FUZZ_CHECK(config_path(cfg) != NULL &&
	    strcmp(config_path(cfg), "fuzz.conf") == 0, "path '%s'",
	    config_path(cfg) ? config_path(cfg) : "(null)");

	for (i = 0; i < G_N_ELEMENTS(keys); i++)
		if (i == 0 || strcmp(keys[i].group, keys[i - 1].group) != 0) {
			if (strcmp(keys[i].group, "imap:*") == 0)
				continue;
			read_group(cfg, keys[i].group, keys[i].group);
			if (!commands)
				read_secrets(cfg, keys[i].group,
				    keys[i].group);
		}
	names = config_groups(cfg, "imap");
	FUZZ_CHECK(names != NULL, "config_groups gave NULL");
	for (i = 0; names[i] != NULL; i++) {
		char *g = g_strdup_printf("imap:%s", names[i]);

		read_group(cfg, g, "imap:*");
		if (!commands)
			read_secrets(cfg, g, "imap:*");
		g_free(g);
	}
	strv_free(names);

	if (memmem(data, size, "[extract]", 9) != NULL)
		run_extractor(cfg);

	if (!commands) {
		sb_init(&out);
		memset(&err, 0, sizeof(err));
		rc = config_dump(cfg, &out, &err);
		FUZZ_CHECK(rc == IKASQ_OK, "config_dump: rc %d: %s", rc,
		    err.msg);
		FUZZ_CHECK(out.len > 0 && g_utf8_validate(out.buf,
		    (gssize)out.len, NULL), "config_dump is not UTF-8");
		sb_release(&out);
	}
	config_free(cfg);
	return 0;
}
