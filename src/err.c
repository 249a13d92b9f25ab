/* err.c - error values and messages */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "ikasq/err.h"

int
err_set(struct ikasq_err *err, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return rc;
	err->rc = rc;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return rc;
}

int
err_prefix(struct ikasq_err *err, const char *fmt, ...)
{
	char head[512], old[sizeof(err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	/* the result may be cut short: a message is one line, not a book */
	snprintf(err->msg, sizeof(err->msg), "%.500s: %.520s", head, old);
	return err->rc;
}

void
err_clear(struct ikasq_err *err)
{
	err->rc = 0;
	err->msg[0] = '\0';
}

int
err_exit_code(int rc)
{
	switch (rc) {
	case IKASQ_OK:		return EX_OK;
	case IKASQ_EUSAGE:	return EX_USAGE;
	case IKASQ_EDATA:	return EX_DATAERR;
	case IKASQ_ENOTFOUND:	return EX_DATAERR;
	case IKASQ_ENOINPUT:	return EX_NOINPUT;
	case IKASQ_EUNAVAIL:	return EX_UNAVAILABLE;
	case IKASQ_EIO:		return EX_IOERR;
	case IKASQ_ETEMP:	return EX_TEMPFAIL;
	case IKASQ_ERATELIMIT:	return EX_TEMPFAIL;
	case IKASQ_EPERM:	return EX_NOPERM;
	case IKASQ_ECONFIG:	return EX_CONFIG;
	default:		return EX_SOFTWARE;
	}
}

bool
err_systemic(int rc)
{
	return rc == IKASQ_ETEMP || rc == IKASQ_ECONFIG || rc == IKASQ_EPERM;
}
