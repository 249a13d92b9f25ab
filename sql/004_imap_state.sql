-- 004_imap_state: where `ikasq fetch` is in each mailbox.
--
-- One row per account and mailbox: the UIDVALIDITY the UIDs belong to and
-- the highest UID whose message is stored.  It moves in the transaction
-- that stores the messages (mbsync's rule: commit before touching the
-- server again), so a crash can neither lose nor duplicate a mail.
CREATE TABLE IF NOT EXISTS imap_state (
    account      text NOT NULL,
    mailbox      text NOT NULL,
    uidvalidity  bigint NOT NULL,
    last_uid     bigint NOT NULL DEFAULT 0,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account, mailbox)
);
