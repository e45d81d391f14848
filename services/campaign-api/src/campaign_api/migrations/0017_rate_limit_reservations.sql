-- depends: 0016_attribute_ranges
-- Rate limits counted in blocks: a campaign-api process takes several hits of a key's window at once and spends
-- them locally, so most requests make no rate-limit round trip (docs/performance.md, "Per request"). The window's
-- count still only grows and is shared by every process and replica, so no key ever gets more than its limit;
-- what a process took and did not spend by the window's end is lost (bounded by the block size).

-- count p_hits requests in the key's current window; answer the window's hits so far (these included), when the
-- window started and the seconds (fractional) until it ends
CREATE FUNCTION reserve_rate_limit(p_key_id bigint, p_bucket text, p_window_s integer, p_hits integer)
RETURNS TABLE (hits integer, window_start timestamptz, remaining_s double precision)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    INSERT INTO rate_limit_windows AS w (api_key_id, bucket, window_start, hits)
    VALUES (p_key_id, p_bucket, to_timestamp(floor(extract(epoch FROM now()) / p_window_s) * p_window_s), p_hits)
    ON CONFLICT (api_key_id, bucket, window_start) DO UPDATE SET hits = w.hits + p_hits
    RETURNING w.hits, w.window_start,
              extract(epoch FROM w.window_start + make_interval(secs => p_window_s) - now())::double precision
$$;
REVOKE ALL ON FUNCTION reserve_rate_limit(bigint, text, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION reserve_rate_limit(bigint, text, integer, integer) TO campaign_app;
