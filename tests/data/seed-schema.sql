-- The seed app's Supabase schema (supabase-migrations.sql, as described in
-- ../shared/notes/ikas-api.md), with a few rows, as an existing deployment
-- would have it before ikasq is pointed at the same database.  The mails
-- table is the app's own; its exact columns are not in the seed, so this is
-- a plausible one.
CREATE TABLE mails (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    from_email text NOT NULL,
    subject text,
    body_text text,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ikas_order_cache (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    mail_id uuid UNIQUE REFERENCES mails(id) ON DELETE CASCADE,
    order_number text NOT NULL,
    order_data jsonb NOT NULL,
    fetched_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL DEFAULT (now() + interval '1 hour'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE job_queue (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    job_type text NOT NULL,
    payload jsonb NOT NULL,
    status text NOT NULL DEFAULT 'pending',
    priority integer NOT NULL DEFAULT 0,
    attempts integer NOT NULL DEFAULT 0,
    max_attempts integer NOT NULL DEFAULT 3,
    error_message text,
    scheduled_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    completed_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_job_queue_status ON job_queue (status, priority DESC, scheduled_at);

-- the app's versions, with other return types than ikasq's
CREATE FUNCTION dequeue_job(p_job_types text[] DEFAULT NULL)
RETURNS TABLE (id uuid, job_type text, payload jsonb, attempts integer)
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY
    UPDATE job_queue j SET status = 'processing', started_at = now(),
           attempts = j.attempts + 1
     WHERE j.id = (SELECT q.id FROM job_queue q
                    WHERE q.status = 'pending' AND q.scheduled_at <= now()
                      AND q.attempts < q.max_attempts
                      AND (p_job_types IS NULL OR q.job_type = ANY (p_job_types))
                    ORDER BY q.priority DESC, q.scheduled_at
                    LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING j.id, j.job_type, j.payload, j.attempts;
END $$;

CREATE FUNCTION fail_job(p_job_id uuid, p_error_message text)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    UPDATE job_queue SET status = 'failed', error_message = p_error_message
     WHERE id = p_job_id;
    RETURN true;
END $$;

CREATE FUNCTION cleanup_old_jobs() RETURNS bigint LANGUAGE sql AS $$
    SELECT 0::bigint $$;

INSERT INTO mails (id, from_email, subject, body_text) VALUES
    ('11111111-1111-4111-8111-111111111111', 'ayse@example.com',
     'Siparişim nerede?', '12345 numaralı siparişim hâlâ gelmedi.');
INSERT INTO ikas_order_cache (mail_id, order_number, order_data) VALUES
    ('11111111-1111-4111-8111-111111111111', '12345',
     '{"orderNumber": "12345", "status": "SHIPPED"}');
INSERT INTO job_queue (job_type, payload, priority, status) VALUES
    ('fetch_ikas_order', '{"mailId": "11111111-1111-4111-8111-111111111111"}', 5, 'completed'),
    ('fetch_ikas_order', '{"mailId": "x"}', 5, 'pending');
