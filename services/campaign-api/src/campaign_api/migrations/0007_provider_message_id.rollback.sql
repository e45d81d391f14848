ALTER TABLE outbound_messages DROP COLUMN IF EXISTS provider_message_id;
ALTER TABLE outbound_messages DROP COLUMN IF EXISTS provider;
