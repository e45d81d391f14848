-- depends: 0005_accounts
-- Request rate limits per API key, shared by every replica: a fixed-window counter row per key, bucket and window,
-- bumped by one upsert per request. Only the SECURITY DEFINER function below touches the table, so the request
-- role campaign_app holds no privilege on it. Old windows are purged by campaign-api on a timer.

CREATE TABLE rate_limit_windows (
    api_key_id   bigint NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    -- 'api': every request of the key; 'send': its sends, limited more strictly
    bucket       text NOT NULL,
    window_start timestamptz NOT NULL,
    hits         integer NOT NULL DEFAULT 1,
    CONSTRAINT rate_limit_windows_pkey PRIMARY KEY (api_key_id, bucket, window_start),
    CONSTRAINT rate_limit_windows_bucket_check CHECK (bucket IN ('api', 'send'))
);
-- serves the purge: DELETE ... WHERE window_start < now() - interval '..'
CREATE INDEX rate_limit_windows_start_idx ON rate_limit_windows (window_start);

-- count one request in the key's current window; answer the window's hits so far and the seconds until it ends
CREATE FUNCTION hit_rate_limit(p_key_id bigint, p_bucket text, p_window_s integer)
RETURNS TABLE (hits integer, retry_after_s integer)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    INSERT INTO rate_limit_windows AS w (api_key_id, bucket, window_start)
    VALUES (p_key_id, p_bucket, to_timestamp(floor(extract(epoch FROM now()) / p_window_s) * p_window_s))
    ON CONFLICT (api_key_id, bucket, window_start) DO UPDATE SET hits = w.hits + 1
    RETURNING w.hits,
              greatest(1, ceil(extract(epoch FROM w.window_start + make_interval(secs => p_window_s) - now())))::integer
$$;
REVOKE ALL ON FUNCTION hit_rate_limit(bigint, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hit_rate_limit(bigint, text, integer) TO campaign_app;
