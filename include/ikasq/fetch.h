/*
 * fetch.h - the IMAP poller: every configured [imap:NAME] account, its
 * mailboxes, into the ingest stage.
 *
 * Per account and mailbox the database keeps UIDVALIDITY and the highest
 * UID stored (table imap_state); each batch of messages is stored and the
 * watermark moved in one transaction, and only then is the server touched
 * (\Seen, MOVE).  Messages are fetched with BODY.PEEK[] so they stay unread.
 */
#ifndef IKASQ_FETCH_H
#define IKASQ_FETCH_H

#include <signal.h>
#include <stdbool.h>

#include "ikasq/err.h"

struct config;
struct db;
struct extractor;

struct fetch_totals {
	long mailboxes;		/* looked at */
	long fetched;		/* messages read from servers */
	long stored;		/* new mails stored */
	long duplicates;	/* already stored (same bytes) */
	long jobs;		/* jobs queued */
	long refused;		/* refused by the database, left on the server */
};

/* Set from a signal handler: finish the current mail and return. */
extern volatile sig_atomic_t fetch_stop;

/* Check the [imap:NAME] settings (IKASQ_ECONFIG naming what is wrong). */
int fetch_check(const struct config *cfg, const char *only_account,
		struct ikasq_err *err);

/*
 * One pass over every account (or only the one named), for cron.  Problems
 * with one mailbox or account are logged and the others still fetched; the
 * return value is the one that matters most (IKASQ_ETEMP before others, so
 * that cron tries again).
 */
int fetch_once(const struct config *cfg, struct db *db,
	       const struct extractor *x, const char *only_account,
	       struct fetch_totals *t, struct ikasq_err *err);

/*
 * The daemon: IDLE on every mailbox (polling where the server has no
 * IDLE), new mail ingested as it arrives, dead connections noticed within
 * a minute and reopened with exponential backoff.  Returns when fetch_stop
 * is set (IKASQ_OK), or on a configuration error.
 */
int fetch_idle(const struct config *cfg, struct db *db,
	       const struct extractor *x, const char *only_account,
	       struct ikasq_err *err);

#endif
