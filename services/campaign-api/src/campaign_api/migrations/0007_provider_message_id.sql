-- depends: 0006_rate_limits
-- The provider that accepted a message and the id it gave it (NULL when the provider gives none, as Kannel's
-- sendsms does), so delivery receipts can find their message. Nullable: rows sent before, and messages never
-- accepted, have neither.

ALTER TABLE outbound_messages ADD COLUMN provider text;
ALTER TABLE outbound_messages ADD COLUMN provider_message_id text;
