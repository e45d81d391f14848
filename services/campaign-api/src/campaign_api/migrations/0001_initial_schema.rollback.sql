DROP TABLE IF EXISTS idempotency_keys;
DROP TABLE IF EXISTS outbound_messages;
DROP TABLE IF EXISTS campaigns;
DROP TABLE IF EXISTS customers;
DROP FUNCTION IF EXISTS set_updated_at();
