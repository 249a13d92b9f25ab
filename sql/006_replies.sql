-- 006_replies: drafts written by `ikasq reply`, and the NOTIFY it waits on.
CREATE TABLE IF NOT EXISTS mail_replies (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    mail_id          uuid NOT NULL REFERENCES mails(id) ON DELETE CASCADE,
    reply            text NOT NULL,
    order_data_used  boolean NOT NULL,
    orders           jsonb NOT NULL DEFAULT '[]',
    model            text,
    usage            jsonb NOT NULL DEFAULT '{}',
    latency_ms       integer,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS mail_replies_mail_idx
    ON mail_replies (mail_id, created_at DESC);

-- A user is waiting on priority-10 jobs: say when one is done (or failed,
-- or was rescheduled), so `ikasq reply --wait` sleeps on LISTEN instead of
-- polling.  Bulk jobs (priority below 10) pay nothing.
CREATE OR REPLACE FUNCTION ikasq_notify_job_done()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM pg_notify('ikasq_job_done', NEW.id::text);
    RETURN NULL;
END;
$$;
DROP TRIGGER IF EXISTS ikasq_notify_job_done ON job_queue;
CREATE TRIGGER ikasq_notify_job_done
    AFTER UPDATE OF status ON job_queue
    FOR EACH ROW
    WHEN (OLD.status = 'processing' AND NEW.status <> 'processing'
          AND NEW.priority >= 10)
    EXECUTE FUNCTION ikasq_notify_job_done();
