/*
 * mailbox.h - the messages of an mbox file or a Maildir, one at a time.
 *
 * An mbox is mapped, not read, so a file of 100,000 mails costs no more
 * memory than its largest message; ">From " lines are unescaped (mboxrd).
 * A Maildir's cur/ and new/ are read in name order.
 */
#ifndef IKASQ_MAILBOX_H
#define IKASQ_MAILBOX_H

#include <stddef.h>

#include "ikasq/err.h"

struct mailbox;

int mailbox_open_mbox(const char *path, struct mailbox **out,
		      struct ikasq_err *err);
int mailbox_open_maildir(const char *dir, struct mailbox **out,
			 struct ikasq_err *err);
/*
 * The next message: 1 with *raw and *len set (valid until the next call)
 * and *where naming it ("'FILE' message 12" or a Maildir file name); 0 at
 * the end; -1 when this message cannot be read (err says why; the next call
 * goes on with the one after).
 */
int mailbox_next(struct mailbox *mb, const char **raw, size_t *len,
		 const char **where, struct ikasq_err *err);
/* How far through the mailbox we are, 0..1, for progress lines. */
double mailbox_progress(const struct mailbox *mb);
void mailbox_close(struct mailbox *mb);

#endif
