DROP FUNCTION IF EXISTS hit_rate_limit(bigint, text, integer);
DROP TABLE IF EXISTS rate_limit_windows;
