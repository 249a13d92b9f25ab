-- 001_init: the seed's tables and functions, and what ikasq adds to them.
--
-- Written so that it applies both to an empty database and to one where the
-- seed's Next.js/Supabase app already created mails, job_queue and
-- ikas_order_cache: tables are created if missing, our columns are added if
-- missing (nullable or with a default, so existing rows stay valid), and
-- the seed's functions are replaced by versions with the same meaning.

CREATE TABLE IF NOT EXISTS mails (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    created_at  timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE mails
    ADD COLUMN IF NOT EXISTS message_id     text,
    ADD COLUMN IF NOT EXISTS from_email     text,
    ADD COLUMN IF NOT EXISTS from_name      text,
    ADD COLUMN IF NOT EXISTS to_email       text,
    ADD COLUMN IF NOT EXISTS subject        text,
    ADD COLUMN IF NOT EXISTS body_text      text,
    ADD COLUMN IF NOT EXISTS order_numbers  text[] NOT NULL DEFAULT '{}',
    ADD COLUMN IF NOT EXISTS received_at    timestamptz,
    ADD COLUMN IF NOT EXISTS updated_at     timestamptz NOT NULL DEFAULT now();

CREATE TABLE IF NOT EXISTS job_queue (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    job_type      text NOT NULL,
    payload       jsonb NOT NULL,
    status        text NOT NULL DEFAULT 'pending',
    priority      integer NOT NULL DEFAULT 0,
    attempts      integer NOT NULL DEFAULT 0,
    max_attempts  integer NOT NULL DEFAULT 3,
    error_message text,
    scheduled_at  timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    completed_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
-- ikasq's additions: a lease (who holds a running job, and until when), a
-- count of leases lost to dead workers, a key that keeps one logical job
-- from being queued twice, and a note left by the handler.
ALTER TABLE job_queue
    ADD COLUMN IF NOT EXISTS lease_expires_at timestamptz,
    ADD COLUMN IF NOT EXISTS locked_by        text,
    ADD COLUMN IF NOT EXISTS rescues          integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS dedupe_key       text,
    ADD COLUMN IF NOT EXISTS result           text;

-- What a worker claims next: due pending jobs, priority first.
CREATE INDEX IF NOT EXISTS job_queue_due_idx
    ON job_queue (priority DESC, scheduled_at) WHERE status = 'pending';
-- Running jobs by lease, for the rescue of a dead worker's jobs.
CREATE INDEX IF NOT EXISTS job_queue_lease_idx
    ON job_queue (lease_expires_at) WHERE status = 'processing';
-- One live job per dedupe key.
CREATE UNIQUE INDEX IF NOT EXISTS job_queue_dedupe_idx
    ON job_queue (dedupe_key)
    WHERE dedupe_key IS NOT NULL AND status IN ('pending', 'processing');

CREATE TABLE IF NOT EXISTS ikas_order_cache (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    mail_id       uuid UNIQUE REFERENCES mails(id) ON DELETE CASCADE,
    order_number  text NOT NULL,
    order_data    jsonb NOT NULL,
    fetched_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL DEFAULT (now() + interval '1 hour'),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
-- Rows with mail_id NULL cache one order number for every mail that names
-- it; found = false is a negative entry ("no such order").
ALTER TABLE ikas_order_cache
    ADD COLUMN IF NOT EXISTS found boolean NOT NULL DEFAULT true;
CREATE UNIQUE INDEX IF NOT EXISTS ikas_order_cache_order_idx
    ON ikas_order_cache (order_number) WHERE mail_id IS NULL;
CREATE INDEX IF NOT EXISTS ikas_order_cache_expires_idx
    ON ikas_order_cache (expires_at);

-- The seed's functions.  Dropped first: an existing deployment may have
-- them with another return type, which CREATE OR REPLACE cannot change.
DROP FUNCTION IF EXISTS dequeue_job(text[]);
DROP FUNCTION IF EXISTS fail_job(uuid, text);
DROP FUNCTION IF EXISTS cleanup_old_jobs();

-- Take the next due job (highest priority, then earliest), atomically.
-- A job taken here gets a 15-minute lease, so that ikasq rescues it if the
-- caller dies; ikasq's own workers claim in batches with their own lease.
CREATE FUNCTION dequeue_job(p_job_types text[] DEFAULT NULL)
RETURNS SETOF job_queue
LANGUAGE sql
SET search_path FROM CURRENT
AS $$
    UPDATE job_queue j
       SET status = 'processing',
           started_at = now(),
           attempts = j.attempts + 1,
           lease_expires_at = now() + interval '15 minutes',
           locked_by = 'dequeue_job',
           updated_at = now()
     WHERE j.id = (
           SELECT q.id
             FROM job_queue q
            WHERE q.status = 'pending'
              AND q.scheduled_at <= now()
              AND q.attempts < q.max_attempts
              AND (p_job_types IS NULL OR q.job_type = ANY (p_job_types))
            ORDER BY q.priority DESC, q.scheduled_at
            LIMIT 1
              FOR UPDATE SKIP LOCKED)
    RETURNING j.*;
$$;

-- Record a failure: failed once attempts reach max_attempts, else pending
-- again at now() + 2^attempts minutes (2, 4, 8 ...).
CREATE FUNCTION fail_job(p_job_id uuid, p_error_message text)
RETURNS void
LANGUAGE sql
SET search_path FROM CURRENT
AS $$
    UPDATE job_queue
       SET status = CASE WHEN attempts >= max_attempts
                         THEN 'failed' ELSE 'pending' END,
           scheduled_at = CASE WHEN attempts >= max_attempts
                         THEN scheduled_at
                         ELSE now() + interval '1 minute' * power(2, attempts) END,
           completed_at = CASE WHEN attempts >= max_attempts
                         THEN now() END,
           error_message = p_error_message,
           lease_expires_at = NULL,
           updated_at = now()
     WHERE id = p_job_id;
$$;

-- Delete completed and failed jobs older than 7 days; returns how many.
CREATE FUNCTION cleanup_old_jobs()
RETURNS integer
LANGUAGE sql
SET search_path FROM CURRENT
AS $$
    WITH gone AS (
        DELETE FROM job_queue
         WHERE status IN ('completed', 'failed')
           AND coalesce(completed_at, updated_at) < now() - interval '7 days'
        RETURNING 1)
    SELECT count(*)::integer FROM gone;
$$;

-- Wake sleeping workers (LISTEN ikasq_jobs) whenever jobs are added, by
-- ikasq or by any other client of this database.  Once per statement.
CREATE OR REPLACE FUNCTION ikasq_notify_jobs()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM pg_notify('ikasq_jobs', '');
    RETURN NULL;
END;
$$;
DROP TRIGGER IF EXISTS ikasq_notify_jobs ON job_queue;
CREATE TRIGGER ikasq_notify_jobs
    AFTER INSERT ON job_queue
    FOR EACH STATEMENT EXECUTE FUNCTION ikasq_notify_jobs();
