/*
 * log.h - diagnostics on stderr or syslog.
 *
 * Messages are one line, lowercase, with the subject in quotes.  No module
 * ever passes a secret to these functions; config masks them and the http
 * and imap modules never format credentials.
 */
#ifndef IKASQ_LOG_H
#define IKASQ_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LVL_QUIET = -1,	/* nothing, not even errors (-q -q) */
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

/* Set the program name shown in each line ("ikasq" or "ikasq work"). */
void log_set_name(const char *name);
void log_set_level(int level);
int log_get_level(void);
/* Send lines to syslog(3) with the given facility instead of stderr. */
void log_use_syslog(int facility);
/* Parse "error|warn|info|debug"; -1 when unknown. */
int log_level_parse(const char *s);

void log_msg(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
