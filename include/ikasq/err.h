/*
 * err.h - error values and the caller-provided message buffer.
 *
 * A function that can fail returns one of the IKASQ_E* values and writes a
 * one-line, human message into a struct ikasq_err the caller owns.  The value
 * says how far the failure reaches and decides the exit code (sysexits.h)
 * and, in the worker, whether a job is retried.
 */
#ifndef IKASQ_ERR_H
#define IKASQ_ERR_H

#include <stdbool.h>

enum ikasq_rc {
	IKASQ_OK = 0,
	IKASQ_EUSAGE,		/* wrong command line (64) */
	IKASQ_EDATA,		/* bad input: this value, this message (65) */
	IKASQ_ENOTFOUND,	/* the named thing does not exist (65) */
	IKASQ_ENOINPUT,		/* an input file is missing (66) */
	IKASQ_EUNAVAIL,		/* a service refused us; retrying won't help soon (69) */
	IKASQ_EINTERNAL,	/* a bug or an impossible state (70) */
	IKASQ_EIO,		/* local I/O failed (74) */
	IKASQ_ETEMP,		/* try again later: server down, lock busy (75) */
	IKASQ_ERATELIMIT,	/* a rate limit said wait; try again (75) */
	IKASQ_EPERM,		/* authentication or permission refused (77) */
	IKASQ_ECONFIG,		/* configuration is wrong (78) */
};

struct ikasq_err {
	int rc;
	char msg[1024];
};

/* Record rc and a printf-style message in err (may be NULL); returns rc. */
int err_set(struct ikasq_err *err, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prepend "what: " to the message already in err; returns err->rc. */
int err_prefix(struct ikasq_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Clear err to IKASQ_OK with an empty message. */
void err_clear(struct ikasq_err *err);

/* The <sysexits.h> exit status for an ikasq_rc value. */
int err_exit_code(int rc);

/*
 * True when the failure is the surroundings', not the input's: the server
 * is unreachable, the setup or a permission is wrong.  Going on with the
 * next input would fail the same way.
 */
bool err_systemic(int rc);

#endif
