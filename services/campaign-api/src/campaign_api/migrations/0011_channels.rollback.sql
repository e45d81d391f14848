DROP INDEX IF EXISTS outbound_messages_provider_message_idx;
ALTER TABLE outbound_messages
    DROP CONSTRAINT IF EXISTS outbound_messages_cost_currency_format,
    DROP CONSTRAINT IF EXISTS outbound_messages_delivery_status_check,
    DROP COLUMN IF EXISTS receipt_received_at,
    DROP COLUMN IF EXISTS delivered_at,
    DROP COLUMN IF EXISTS delivery_reason,
    DROP COLUMN IF EXISTS delivery_code,
    DROP COLUMN IF EXISTS delivery_status,
    DROP COLUMN IF EXISTS cost_currency,
    DROP COLUMN IF EXISTS cost,
    DROP COLUMN IF EXISTS sender_id;
ALTER TABLE campaigns DROP CONSTRAINT IF EXISTS campaigns_sender_fkey, DROP COLUMN IF EXISTS sender_id;
DROP TABLE IF EXISTS senders;
