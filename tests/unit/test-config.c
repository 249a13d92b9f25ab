/* test-config.c - ikasq.conf parsing, validation, secrets, masking */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ikasq/config.h"
#include "tap.h"

static struct config *
load(const char *text, struct strbuf *problems)
{
	struct config *cfg = NULL;

	sb_init(problems);
	config_load_text("t.conf", text, strlen(text), &cfg, problems);
	return cfg;
}

static int
count_lines(const char *s)
{
	int n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

static void
test_defaults(void)
{
	struct strbuf pb;
	struct config *cfg = load("", &pb);

	g_assert_nonnull(cfg);
	g_assert_cmpint(config_int(cfg, "queue", "max_attempts"), ==, 3);
	g_assert_cmpint(config_duration(cfg, "queue", "lease"), ==, 300);
	g_assert_cmpint(config_duration(cfg, "cache", "ttl"), ==, 3600);
	g_assert_cmpint(config_duration(cfg, "queue", "keep_finished"), ==,
	    7 * 86400);
	g_assert_cmpstr(config_str(cfg, "database", "schema"), ==, "public");
	g_assert_cmpstr(config_str(cfg, "database", "conninfo"), ==, "");
	config_free(cfg);
	sb_release(&pb);
}

static void
test_values(void)
{
	struct strbuf pb;
	struct config *cfg = load(
	    "# comment\n"
	    "[queue]\n"
	    "max_attempts = 5\n"
	    "  lease=90s  \n"
	    "\n"
	    "[cache]\n"
	    "ttl = 2h\n"
	    "[general]\n"
	    "log_level = debug\n"
	    "[database]\n"
	    "schema = ikasq_test\n", &pb);

	g_assert_nonnull(cfg);
	g_assert_cmpstr(pb.buf, ==, "");
	g_assert_cmpint(config_int(cfg, "queue", "max_attempts"), ==, 5);
	g_assert_cmpint(config_duration(cfg, "queue", "lease"), ==, 90);
	g_assert_cmpint(config_duration(cfg, "cache", "ttl"), ==, 7200);
	g_assert_cmpstr(config_str(cfg, "general", "log_level"), ==, "debug");
	g_assert_cmpstr(config_str(cfg, "database", "schema"), ==,
	    "ikasq_test");
	config_free(cfg);
	sb_release(&pb);
}

/* Every problem is reported, each with its line, none stops the others. */
static void
test_all_problems(void)
{
	struct strbuf pb;
	struct config *cfg = load(
	    "[queue]\n"				/* 1 */
	    "max_attempts = lots\n"		/* 2 bad int */
	    "lease = 5 minutes\n"		/* 3 bad duration */
	    "colour = blue\n"			/* 4 unknown key */
	    "[nosuch]\n"			/* 5 unknown section */
	    "x = 1\n"				/* 6 ignored: unknown section */
	    "[cache]\n"				/* 7 */
	    "ttl = 0\n"				/* 8 out of range */
	    "ttl = 1h\n"			/* 9 duplicate */
	    "[general]\n"			/* 10 */
	    "log = papyrus\n"			/* 11 bad enum */
	    "[database]\n"			/* 12 */
	    "schema = Robert'); DROP\n",	/* 13 bad identifier */
	    &pb);

	g_assert_null(cfg);
	g_assert_nonnull(strstr(pb.buf, "t.conf:2: bad value for "
	    "'max_attempts' in [queue]: 'lots' is not an integer in 1..100\n"));
	g_assert_nonnull(strstr(pb.buf, "t.conf:3: bad value for 'lease' in "
	    "[queue]: '5 minutes' is not a duration"));
	g_assert_nonnull(strstr(pb.buf, "t.conf:4: unknown key 'colour' in "
	    "[queue]\n"));
	g_assert_nonnull(strstr(pb.buf, "t.conf:5: unknown section "
	    "[nosuch]\n"));
	g_assert_nonnull(strstr(pb.buf, "t.conf:8: bad value for 'ttl' in "
	    "[cache]: '0' is outside 1s..30d\n"));
	g_assert_nonnull(strstr(pb.buf, "t.conf:9: duplicate key 'ttl' in "
	    "[cache] (first at line 8)\n"));
	g_assert_nonnull(strstr(pb.buf, "t.conf:11: bad value for 'log' in "
	    "[general]: 'papyrus' is not one of stderr|syslog\n"));
	g_assert_nonnull(strstr(pb.buf, "t.conf:13: bad value for 'schema'"));
	g_assert_cmpint(count_lines(pb.buf), ==, 8);
	sb_release(&pb);
}

static void
test_syntax(void)
{
	struct strbuf pb;
	struct config *cfg;

	cfg = load("orphan = 1\n[queue\nnot a pair\n[queue]\n= 3\n", &pb);
	g_assert_null(cfg);
	g_assert_nonnull(strstr(pb.buf, "t.conf:1: key 'orphan' is outside "
	    "any [section]\n"));
	g_assert_nonnull(strstr(pb.buf, "t.conf:2: bad section header "
	    "'[queue'\n"));
	g_assert_nonnull(strstr(pb.buf, "t.conf:3: expected 'key = value', "
	    "found 'not a pair'\n"));
	g_assert_nonnull(strstr(pb.buf, "t.conf:5: expected 'key = value'"));
	g_assert_cmpint(count_lines(pb.buf), ==, 4);
	sb_release(&pb);

	cfg = load("[queue]\nmax_attempts = \xff\xfe\n", &pb);
	g_assert_null(cfg);
	g_assert_nonnull(strstr(pb.buf, "t.conf:2: not valid UTF-8\n"));
	sb_release(&pb);

	sb_init(&pb);
	g_assert_cmpint(config_load_text("t.conf", "[queue]\n\0x=1\n", 11,
	    &cfg, &pb), ==, IKASQ_ECONFIG);
	g_assert_nonnull(strstr(pb.buf, "t.conf:2: NUL byte"));
	sb_release(&pb);
}

static void
test_secret_sources(void)
{
	struct strbuf pb;
	struct ikasq_err err;
	struct config *cfg;
	char *v;

	unsetenv("IKASQ_DATABASE_PASSWORD");
	cfg = load("[database]\npassword = from-file\n", &pb);
	g_assert_cmpint(config_secret(cfg, "database", "password", &v, &err),
	    ==, IKASQ_OK);
	g_assert_cmpstr(v, ==, "from-file");
	free(v);
	/* the environment overrides the file */
	setenv("IKASQ_DATABASE_PASSWORD", "from-env", 1);
	g_assert_cmpint(config_secret(cfg, "database", "password", &v, &err),
	    ==, IKASQ_OK);
	g_assert_cmpstr(v, ==, "from-env");
	free(v);
	unsetenv("IKASQ_DATABASE_PASSWORD");
	config_free(cfg);
	sb_release(&pb);

	cfg = load("[database]\npassword_command = printf 'cmd-secret\\n"
	    "second line\\n'\n", &pb);
	g_assert_nonnull(cfg);
	g_assert_cmpint(config_secret(cfg, "database", "password", &v, &err),
	    ==, IKASQ_OK);
	g_assert_cmpstr(v, ==, "cmd-secret");
	free(v);
	config_free(cfg);
	sb_release(&pb);

	cfg = load("[database]\npassword_command = exit 3\n", &pb);
	g_assert_cmpint(config_secret(cfg, "database", "password", &v, &err),
	    ==, IKASQ_ECONFIG);
	g_assert_null(v);
	g_assert_cmpstr(err.msg, ==, "'password_command' in [database] "
	    "failed with exit status 3");
	config_free(cfg);
	sb_release(&pb);

	cfg = load("[database]\npassword_command = true\n", &pb);
	g_assert_cmpint(config_secret(cfg, "database", "password", &v, &err),
	    ==, IKASQ_ECONFIG);
	g_assert_cmpstr(err.msg, ==, "'password_command' in [database] "
	    "printed nothing");
	config_free(cfg);
	sb_release(&pb);

	cfg = load("", &pb);
	g_assert_cmpint(config_secret(cfg, "database", "password", &v, &err),
	    ==, IKASQ_OK);
	g_assert_null(v);
	config_free(cfg);
	sb_release(&pb);
}

static void
test_dump_masks(void)
{
	struct strbuf pb, out;
	struct ikasq_err err;
	struct config *cfg;

	cfg = load("[database]\n"
	    "conninfo = postgresql://shop:hunter2@db.example.com/ikasq\n"
	    "password = s3cr3t-value\n", &pb);
	g_assert_nonnull(cfg);
	sb_init(&out);
	g_assert_cmpint(config_dump(cfg, &out, &err), ==, IKASQ_OK);
	g_assert_null(strstr(out.buf, "hunter2"));
	g_assert_null(strstr(out.buf, "s3cr3t-value"));
	g_assert_nonnull(strstr(out.buf, "conninfo = postgresql://shop:"
	    "********@db.example.com/ikasq\n"));
	g_assert_nonnull(strstr(out.buf, "password = ******** (from this "
	    "file)\n"));
	g_assert_nonnull(strstr(out.buf, "max_attempts = 3  # default\n"));
	sb_release(&out);
	config_free(cfg);
	sb_release(&pb);

	cfg = load("[database]\n"
	    "conninfo = host=db user=shop password='p w' dbname=q\n",
	    &pb);
	g_assert_nonnull(cfg);
	sb_init(&out);
	g_assert_cmpint(config_dump(cfg, &out, &err), ==, IKASQ_OK);
	g_assert_nonnull(strstr(out.buf, "conninfo = host=db user=shop "
	    "password=******** dbname=q\n"));
	sb_release(&out);
	config_free(cfg);
	sb_release(&pb);
}

static char *
write_conf(const char *text, mode_t mode)
{
	char *path = g_strdup("/tmp/ikasq-test-conf-XXXXXX");
	int fd = g_mkstemp(path);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(write(fd, text, strlen(text)), ==, (ssize_t)strlen(text));
	g_assert_cmpint(fchmod(fd, mode), ==, 0);
	close(fd);
	return path;
}

static void
test_permissions(void)
{
	struct strbuf pb;
	struct config *cfg;
	char *path;

	path = write_conf("[database]\npassword = pw\n", 0644);
	sb_init(&pb);
	g_assert_cmpint(config_load(path, &cfg, &pb), ==, IKASQ_ECONFIG);
	g_assert_null(cfg);
	g_assert_nonnull(strstr(pb.buf, ":2: holds a secret but the file is "
	    "readable by group or others (mode 644)"));
	g_assert_null(strstr(pb.buf, "pw\n"));
	sb_release(&pb);
	chmod(path, 0600);
	sb_init(&pb);
	g_assert_cmpint(config_load(path, &cfg, &pb), ==, IKASQ_OK);
	g_assert_cmpstr(config_path(cfg), ==, path);
	config_free(cfg);
	sb_release(&pb);
	unlink(path);
	g_free(path);

	/* a password inside conninfo is a secret too */
	path = write_conf("[database]\nconninfo = host=x password=pw\n", 0640);
	sb_init(&pb);
	g_assert_cmpint(config_load(path, &cfg, &pb), ==, IKASQ_ECONFIG);
	sb_release(&pb);
	unlink(path);
	g_free(path);

	/* no secret: any mode is fine */
	path = write_conf("[queue]\nmax_attempts = 4\n", 0644);
	sb_init(&pb);
	g_assert_cmpint(config_load(path, &cfg, &pb), ==, IKASQ_OK);
	config_free(cfg);
	sb_release(&pb);
	unlink(path);
	g_free(path);

	/* a command in a file others may write */
	path = write_conf("[database]\npassword_command = cat /x\n", 0666);
	sb_init(&pb);
	g_assert_cmpint(config_load(path, &cfg, &pb), ==, IKASQ_ECONFIG);
	g_assert_nonnull(strstr(pb.buf, "writable by group or others"));
	sb_release(&pb);
	unlink(path);
	g_free(path);

	sb_init(&pb);
	g_assert_cmpint(config_load("/nonexistent/ikasq.conf", &cfg, &pb), ==,
	    IKASQ_ECONFIG);
	g_assert_cmpstr(pb.buf, ==, "cannot read '/nonexistent/ikasq.conf': "
	    "No such file or directory\n");
	sb_release(&pb);
}

static void
test_env_name(void)
{
	char *n = config_env_name("imap:shop-1", "password");

	g_assert_cmpstr(n, ==, "IKASQ_IMAP_SHOP_1_PASSWORD");
	free(n);
	n = config_env_name("ikas", "client_secret");
	g_assert_cmpstr(n, ==, "IKASQ_IKAS_CLIENT_SECRET");
	free(n);
}

int
main(int argc, char **argv)
{
	tap_init(&argc, &argv);
	g_test_add_func("/config/defaults", test_defaults);
	g_test_add_func("/config/values", test_values);
	g_test_add_func("/config/all-problems", test_all_problems);
	g_test_add_func("/config/syntax", test_syntax);
	g_test_add_func("/config/secret-sources", test_secret_sources);
	g_test_add_func("/config/dump-masks", test_dump_masks);
	g_test_add_func("/config/permissions", test_permissions);
	g_test_add_func("/config/env-name", test_env_name);
	return g_test_run();
}
