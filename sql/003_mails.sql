-- 003_mails: what `ikasq ingest` stores of a mail.
--
-- One row per distinct raw message: the SHA-256 of its bytes is unique, so
-- a message delivered twice (an MTA retry, a re-imported mbox, an IMAP
-- mailbox whose UIDVALIDITY changed) is stored once.  The raw bytes stay in
-- `raw` (or in a file named by `raw_path`) so a mail can be parsed again.
ALTER TABLE mails
    ADD COLUMN IF NOT EXISTS sent_at         timestamptz,
    ADD COLUMN IF NOT EXISTS in_reply_to     text,
    ADD COLUMN IF NOT EXISTS references_ids  text,
    ADD COLUMN IF NOT EXISTS orders          jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN IF NOT EXISTS size_bytes      bigint,
    ADD COLUMN IF NOT EXISTS sha256          text,
    ADD COLUMN IF NOT EXISTS source          text,
    ADD COLUMN IF NOT EXISTS raw             bytea,
    ADD COLUMN IF NOT EXISTS raw_path        text,
    ADD COLUMN IF NOT EXISTS parse_error     text,
    ADD COLUMN IF NOT EXISTS note            text;

CREATE UNIQUE INDEX IF NOT EXISTS mails_sha256_idx ON mails (sha256);
CREATE INDEX IF NOT EXISTS mails_message_id_idx ON mails (message_id);
-- raw bytes are not worth compressing again (they are often base64)
ALTER TABLE mails ALTER COLUMN raw SET STORAGE EXTERNAL;
