-- 002_claim: the batch claim as a function, so that it carries its own
-- planner settings.
--
-- Right after a bulk enqueue, before autovacuum has analysed job_queue, the
-- planner believes a handful of rows are due and picks a bitmap scan plus a
-- sort of every due row for each claim: a claim of 500 from 50,000 jobs
-- took 30 ms.  With bitmap scans off it walks job_queue_due_idx in order
-- and stops after p_limit rows, whatever the statistics say.  The UPDATE
-- finds the claimed rows by primary key (= ANY (ARRAY(...))) instead of a
-- join that may scan the whole table, finished jobs included.
CREATE OR REPLACE FUNCTION ikasq_claim(p_types text[], p_limit integer,
                                       p_lease_seconds integer,
                                       p_worker text)
RETURNS SETOF job_queue
LANGUAGE sql
SET enable_bitmapscan = off
SET search_path FROM CURRENT
AS $$
    UPDATE job_queue j
       SET status = 'processing',
           attempts = j.attempts + 1,
           started_at = now(),
           lease_expires_at = now() + make_interval(secs => p_lease_seconds),
           locked_by = p_worker,
           updated_at = now()
     WHERE j.id = ANY (ARRAY(
           SELECT q.id
             FROM job_queue q
            WHERE q.status = 'pending'
              AND q.scheduled_at <= now()
              AND q.attempts < q.max_attempts
              AND (p_types IS NULL OR q.job_type = ANY (p_types))
            ORDER BY q.priority DESC, q.scheduled_at
            LIMIT p_limit
              FOR UPDATE SKIP LOCKED))
    RETURNING j.*;
$$;
