DROP FUNCTION IF EXISTS reserve_rate_limit(bigint, text, integer, integer);
