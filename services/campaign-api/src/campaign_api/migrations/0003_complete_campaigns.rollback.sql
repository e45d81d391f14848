DROP FUNCTION IF EXISTS complete_campaigns(bigint[]);
