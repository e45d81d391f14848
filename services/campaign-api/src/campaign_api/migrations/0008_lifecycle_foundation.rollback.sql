DROP TABLE IF EXISTS inbound_messages;
CREATE INDEX IF NOT EXISTS outbound_messages_outbox_idx ON outbound_messages (id) WHERE published_at IS NULL;
DROP INDEX IF EXISTS outbound_messages_outbox_due_idx;
UPDATE outbound_messages SET status = 'failed' WHERE status IN ('suppressed', 'expired', 'cancelled');
ALTER TABLE outbound_messages
    DROP COLUMN IF EXISTS not_before,
    DROP CONSTRAINT outbound_messages_status_check,
    ADD CONSTRAINT outbound_messages_status_check CHECK (status IN ('pending', 'sending', 'sent', 'failed'));
UPDATE campaigns SET status = 'sending' WHERE status = 'paused';
UPDATE campaigns SET status = 'failed' WHERE status = 'cancelled';
ALTER TABLE campaigns
    DROP CONSTRAINT IF EXISTS campaigns_category_check,
    DROP COLUMN IF EXISTS category,
    DROP CONSTRAINT campaigns_status_check,
    ADD CONSTRAINT campaigns_status_check CHECK (status IN ('draft', 'scheduled', 'sending', 'sent', 'failed'));
