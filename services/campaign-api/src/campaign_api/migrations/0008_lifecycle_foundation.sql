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

-- every inbound message (MO) a provider hands over, or a client posts, stored before anything acts on it (the
-- opt-out keywords read it); phone is E.164, provider names the adapter ('api' when posted through the REST API)
CREATE TABLE inbound_messages (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id          bigint NOT NULL DEFAULT current_setting('app.account_id')::bigint
                            REFERENCES accounts (id) ON DELETE CASCADE,
    channel             text NOT NULL,
    phone               text NOT NULL,
    body                text NOT NULL,
    provider            text NOT NULL,
    -- the provider's id of the inbound message: a provider that calls twice stores one row
    provider_message_id text,
    received_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT inbound_messages_channel_check CHECK (channel IN ('sms', 'whatsapp')),
    CONSTRAINT inbound_messages_phone_e164 CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    CONSTRAINT inbound_messages_body_length CHECK (char_length(body) <= 4096)
);
-- a provider's retried callback is one message
CREATE UNIQUE INDEX inbound_messages_provider_id_key ON inbound_messages (account_id, provider, provider_message_id)
    WHERE provider_message_id IS NOT NULL;
-- serves listings per account, newest first, and per phone
CREATE INDEX inbound_messages_account_id_idx ON inbound_messages (account_id, id DESC);
CREATE INDEX inbound_messages_account_phone_idx ON inbound_messages (account_id, phone, id DESC);

GRANT SELECT, INSERT ON inbound_messages TO campaign_app;
ALTER TABLE inbound_messages ENABLE ROW LEVEL SECURITY;
CREATE POLICY account_isolation ON inbound_messages TO campaign_app
    USING (account_id = nullif(current_setting('app.account_id', true), '')::bigint)
    WITH CHECK (account_id = nullif(current_setting('app.account_id', true), '')::bigint);
