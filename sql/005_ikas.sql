-- 005_ikas: what every worker shares to talk to the İkas Admin API.
--
-- ikas_token: one access token per store (OAuth2 client credentials, valid
-- 4 hours), fetched by one worker and used by all.
-- ikas_rate: a token bucket per store, so that any number of workers on
-- any number of machines together stay under the API's rate limit; a 429
-- blocks the bucket for everybody until its Retry-After has passed.
CREATE TABLE IF NOT EXISTS ikas_token (
    store         text PRIMARY KEY,
    access_token  text NOT NULL,
    expires_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS ikas_rate (
    bucket         text PRIMARY KEY,
    tokens         double precision NOT NULL,
    updated_at     timestamptz NOT NULL,
    blocked_until  timestamptz,
    granted        bigint NOT NULL DEFAULT 0,
    limited        bigint NOT NULL DEFAULT 0
);

-- Take p_n tokens from the bucket, which refills at p_rate per second up to
-- p_burst.  Returns 0 when they were taken, else how many seconds to wait
-- before asking again (nothing is taken then).
CREATE OR REPLACE FUNCTION ikasq_rate_take(p_bucket text, p_n double precision,
                                           p_rate double precision,
                                           p_burst double precision)
RETURNS double precision
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
    r      ikas_rate%ROWTYPE;
    t      timestamptz := clock_timestamp();
    avail  double precision;
BEGIN
    INSERT INTO ikas_rate (bucket, tokens, updated_at)
    VALUES (p_bucket, p_burst, t) ON CONFLICT (bucket) DO NOTHING;
    SELECT * INTO r FROM ikas_rate WHERE bucket = p_bucket FOR UPDATE;
    IF r.blocked_until IS NOT NULL AND r.blocked_until > t THEN
        RETURN extract(epoch FROM r.blocked_until - t);
    END IF;
    avail := least(p_burst, r.tokens + p_rate * greatest(0,
             extract(epoch FROM t - r.updated_at)));
    IF avail >= p_n THEN
        UPDATE ikas_rate SET tokens = avail - p_n, updated_at = t,
               granted = granted + 1
         WHERE bucket = p_bucket;
        RETURN 0;
    END IF;
    UPDATE ikas_rate SET tokens = avail, updated_at = t
     WHERE bucket = p_bucket;
    RETURN (p_n - avail) / p_rate;
END;
$$;

-- The API said 429: nobody asks again for p_seconds, and the bucket starts
-- empty after that.
CREATE OR REPLACE FUNCTION ikasq_rate_block(p_bucket text,
                                            p_seconds double precision)
RETURNS void
LANGUAGE sql
SET search_path FROM CURRENT
AS $$
    UPDATE ikas_rate
       SET blocked_until = greatest(coalesce(blocked_until, clock_timestamp()),
                                    clock_timestamp()
                                    + make_interval(secs => p_seconds)),
           tokens = 0, updated_at = clock_timestamp()
                  + make_interval(secs => p_seconds),
           limited = limited + 1
     WHERE bucket = p_bucket;
$$;
