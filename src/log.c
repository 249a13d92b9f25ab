/* log.c - one-line diagnostics to stderr or syslog */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "ikasq/log.h"

static const char *log_name = "ikasq";
static int log_level = LOG_LVL_INFO;
static int log_syslog;

void
log_set_name(const char *name)
{
	log_name = name;
}

void
log_set_level(int level)
{
	log_level = level;
}

int
log_get_level(void)
{
	return log_level;
}

void
log_use_syslog(int facility)
{
	openlog("ikasq", LOG_PID, facility);
	log_syslog = 1;
}

int
log_level_parse(const char *s)
{
	static const char *names[] = { "error", "warn", "info", "debug" };
	int i;

	for (i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

void
log_msg(int level, const char *fmt, ...)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char line[2048];
	va_list ap;
	char *p;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* one event, one line: a message from a server may hold newlines */
	for (p = line; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (log_syslog) {
		syslog(prio[level], "%s", line);
		return;
	}
	fprintf(stderr, "%s: %s%s\n", log_name,
	    level == LOG_LVL_WARN ? "warning: " : "", line);
}
