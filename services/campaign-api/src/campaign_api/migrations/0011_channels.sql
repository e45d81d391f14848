-- depends: 0008_lifecycle_foundation
-- Real channels: senders as per-account data, the sender a campaign goes through, and what providers report back
-- about each message (segments and cost on acceptance; delivery receipts later).

CREATE TABLE senders (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id        bigint NOT NULL DEFAULT current_setting('app.account_id')::bigint
                          REFERENCES accounts (id) ON DELETE CASCADE,
    name              text NOT NULL,
    channel           text NOT NULL,
    -- the adapter that sends through it
    provider          text NOT NULL,
    -- what the recipient sees it come from: an alphanumeric sender id, a short code or a number (SMS), or the
    -- WhatsApp Business phone number id
    address           text NOT NULL,
    -- the NAME of the environment variable (or Kubernetes Secret key) that holds the credentials, never the
    -- credentials themselves; NULL for a provider that needs none (the mock)
    credentials_ref   text,
    -- segments per second (SMS) or messages per second (WhatsApp), held across every worker replica
    throughput_per_s  numeric(10, 2) NOT NULL DEFAULT 80,
    -- the sender a campaign of this channel uses when it names none
    is_default        boolean NOT NULL DEFAULT false,
    -- the secret in this sender's callback URLs (delivery receipts, inbound messages): random, made by the API
    callback_token    text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT senders_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
    CONSTRAINT senders_channel_check CHECK (channel IN ('sms', 'whatsapp')),
    CONSTRAINT senders_provider_check CHECK (provider IN ('mock', 'kannel', 'aggregator', 'whatsapp')),
    CONSTRAINT senders_address_length CHECK (char_length(address) BETWEEN 1 AND 64),
    CONSTRAINT senders_credentials_ref_format CHECK (credentials_ref IS NULL OR credentials_ref ~ '^[A-Z][A-Z0-9_]{0,127}$'),
    CONSTRAINT senders_throughput_check CHECK (throughput_per_s > 0 AND throughput_per_s <= 10000),
    CONSTRAINT senders_account_name_key UNIQUE (account_id, name),
    -- the target of campaigns' same-account foreign key
    CONSTRAINT senders_account_id_key UNIQUE (account_id, id),
    -- serves the callback endpoints' lookup (one index probe per receipt)
    CONSTRAINT senders_callback_token_key UNIQUE (callback_token)
);
CREATE TRIGGER senders_updated_at BEFORE UPDATE ON senders FOR EACH ROW EXECUTE FUNCTION set_updated_at();
-- at most one default sender per account and channel
CREATE UNIQUE INDEX senders_default_key ON senders (account_id, channel) WHERE is_default;

ALTER TABLE campaigns
    ADD COLUMN sender_id bigint,
    ADD CONSTRAINT campaigns_sender_fkey FOREIGN KEY (account_id, sender_id) REFERENCES senders (account_id, id);

ALTER TABLE outbound_messages
    -- the sender the message went out through (stamped with the outcome)
    ADD COLUMN sender_id bigint,
    -- what the provider charged, when it says (Africa's Talking answers e.g. "KES 0.8000")
    ADD COLUMN cost numeric(12, 4),
    ADD COLUMN cost_currency text,
    -- the last delivery receipt: delivered, undelivered, or read (WhatsApp); NULL while none has come
    ADD COLUMN delivery_status text,
    ADD COLUMN delivery_code text,
    ADD COLUMN delivery_reason text,
    -- when the provider says it happened, and when its receipt reached us
    ADD COLUMN delivered_at timestamptz,
    ADD COLUMN receipt_received_at timestamptz,
    ADD CONSTRAINT outbound_messages_delivery_status_check
        CHECK (delivery_status IS NULL OR delivery_status IN ('delivered', 'undelivered', 'read')),
    ADD CONSTRAINT outbound_messages_cost_currency_format CHECK (cost_currency IS NULL OR cost_currency ~ '^[A-Z]{3}$');
-- serves receipts: WHERE provider = .. AND provider_message_id = ..
CREATE INDEX outbound_messages_provider_message_idx ON outbound_messages (provider, provider_message_id)
    WHERE provider_message_id IS NOT NULL;

GRANT SELECT, INSERT, UPDATE, DELETE ON senders TO campaign_app;
ALTER TABLE senders ENABLE ROW LEVEL SECURITY;
CREATE POLICY account_isolation ON senders TO campaign_app
    USING (account_id = nullif(current_setting('app.account_id', true), '')::bigint)
    WITH CHECK (account_id = nullif(current_setting('app.account_id', true), '')::bigint);
