-- depends: 0007_provider_message_id
-- The lifecycle's second vocabulary, shared by compliance, operator controls and real channels:
--   * campaigns may be paused or cancelled while sending, and carry a category (promotional by default;
--     transactional traffic is exempt from promotional send windows and goes in its own lane);
--   * a message may end suppressed (an opt-out), expired (not sent within its validity) or cancelled (its
--     campaign was cancelled), each a terminal status of its own, never counted as failed;
--   * a pending message may wait: not_before is the earliest moment the outbox relay publishes it (a send window
--     that is closed, a throttled provider, a campaign's pace). '-infinity' means at once, so the relay's query
--     and its index need no OR on NULL.

ALTER TABLE campaigns
    DROP CONSTRAINT campaigns_status_check,
    ADD CONSTRAINT campaigns_status_check
        CHECK (status IN ('draft', 'scheduled', 'sending', 'paused', 'sent', 'failed', 'cancelled')),
    ADD COLUMN category text NOT NULL DEFAULT 'promotional',
    ADD CONSTRAINT campaigns_category_check CHECK (category IN ('promotional', 'transactional'));

ALTER TABLE outbound_messages
    DROP CONSTRAINT outbound_messages_status_check,
    ADD CONSTRAINT outbound_messages_status_check
        CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'suppressed', 'expired', 'cancelled')),
    ADD COLUMN not_before timestamptz NOT NULL DEFAULT '-infinity';

-- serves the outbox relay: WHERE published_at IS NULL AND not_before <= now() ORDER BY not_before, id
-- FOR UPDATE SKIP LOCKED, and the outbox backlog gauge; rows that wait sit at the end of it, in time order
CREATE INDEX outbound_messages_outbox_due_idx ON outbound_messages (not_before, id) WHERE published_at IS NULL;
DROP INDEX outbound_messages_outbox_idx;
