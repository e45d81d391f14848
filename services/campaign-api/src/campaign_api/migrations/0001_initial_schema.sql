-- Campaign Dispatch: customers, campaigns, outbound messages (the outbox), idempotency keys.
-- Every enum is a CHECK constraint mirrored by a StrEnum in code; updated_at is kept by a trigger.

CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

CREATE TABLE customers (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    phone             text NOT NULL,
    first_name        text,
    last_name         text,
    location          text,
    preferred_product text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    -- E.164: a plus, a non-zero country digit, at most 15 digits in all (normalised by the API with phonenumbers)
    CONSTRAINT customers_phone_e164 CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    -- serves POST /customers duplicate detection (409) and lookups by phone
    CONSTRAINT customers_phone_key UNIQUE (phone)
);
CREATE TRIGGER customers_updated_at BEFORE UPDATE ON customers
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- serves segment audiences: WHERE lower(location) = lower(%s) (case-insensitive match)
CREATE INDEX customers_location_idx ON customers (lower(location));
-- serves segment audiences: WHERE lower(preferred_product) = lower(%s)
CREATE INDEX customers_preferred_product_idx ON customers (lower(preferred_product));

CREATE TABLE campaigns (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name               text NOT NULL,
    channel            text NOT NULL,
    status             text NOT NULL DEFAULT 'draft',
    base_template      text NOT NULL,
    scheduled_at       timestamptz,
    -- who the campaign goes to when sent without explicit customer_ids:
    -- {"customer_ids": [..]} or {"segment": {"all": true}} or {"segment": {"location": .., "preferred_product": ..}}
    audience           jsonb,
    sending_started_at timestamptz,
    completed_at       timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT campaigns_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
    CONSTRAINT campaigns_template_length CHECK (char_length(base_template) BETWEEN 1 AND 4096),
    CONSTRAINT campaigns_channel_check CHECK (channel IN ('sms', 'whatsapp')),
    CONSTRAINT campaigns_status_check CHECK (status IN ('draft', 'scheduled', 'sending', 'sent', 'failed')),
    CONSTRAINT campaigns_scheduled_has_time CHECK (status <> 'scheduled' OR scheduled_at IS NOT NULL),
    CONSTRAINT campaigns_audience_object CHECK (audience IS NULL OR jsonb_typeof(audience) = 'object')
);
CREATE TRIGGER campaigns_updated_at BEFORE UPDATE ON campaigns
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- serves GET /campaigns?status=..: WHERE status = %s ORDER BY id DESC (and the keyset variant id < %s)
CREATE INDEX campaigns_status_id_idx ON campaigns (status, id DESC);
-- serves GET /campaigns?channel=..: WHERE channel = %s ORDER BY id DESC (and the keyset variant id < %s)
CREATE INDEX campaigns_channel_id_idx ON campaigns (channel, id DESC);
-- serves the scheduler's due query: WHERE status = 'scheduled' AND scheduled_at <= now() ORDER BY scheduled_at
CREATE INDEX campaigns_due_idx ON campaigns (scheduled_at) WHERE status = 'scheduled';
-- serves the completion sweep: WHERE status = 'sending'
CREATE INDEX campaigns_sending_idx ON campaigns (id) WHERE status = 'sending';

CREATE TABLE outbound_messages (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id        bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    customer_id        bigint NOT NULL REFERENCES customers (id) ON DELETE RESTRICT,
    status             text NOT NULL DEFAULT 'pending',
    rendered_content   text,
    last_error         text,
    retry_count        integer NOT NULL DEFAULT 0,
    -- the transactional outbox: NULL until the relay has published the job with a broker confirm
    published_at       timestamptz,
    -- W3C traceparent of the request that created the row, so the relay continues its trace
    traceparent        text,
    -- when a worker last took the message (status 'sending'); a stale claim is recovered on redelivery
    claimed_at         timestamptz,
    sent_at            timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT outbound_messages_status_check CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    CONSTRAINT outbound_messages_retry_count_check CHECK (retry_count BETWEEN 0 AND 100),
    CONSTRAINT outbound_messages_sent_has_time CHECK (status <> 'sent' OR sent_at IS NOT NULL),
    -- one message per customer per campaign: a repeated or concurrent send can never duplicate rows;
    -- also serves WHERE campaign_id = %s through its leading column
    CONSTRAINT outbound_messages_campaign_customer_key UNIQUE (campaign_id, customer_id)
);
CREATE TRIGGER outbound_messages_updated_at BEFORE UPDATE ON outbound_messages
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- serves the outbox relay: WHERE published_at IS NULL ORDER BY id LIMIT n FOR UPDATE SKIP LOCKED,
-- and the outbox backlog gauge; stays small because published rows leave it
CREATE INDEX outbound_messages_outbox_idx ON outbound_messages (id) WHERE published_at IS NULL;
-- serves GET /campaigns/{id} stats (count per status) and the completion check
-- (NOT EXISTS ... WHERE campaign_id = %s AND status IN ('pending', 'sending')) as index-only scans
CREATE INDEX outbound_messages_campaign_status_idx ON outbound_messages (campaign_id, status);
-- serves the FK check when a customer is deleted (ON DELETE RESTRICT)
CREATE INDEX outbound_messages_customer_idx ON outbound_messages (customer_id);

CREATE TABLE idempotency_keys (
    -- scope names the operation, e.g. 'send:42'; a key is unique within its scope
    scope         text NOT NULL,
    key           text NOT NULL,
    request_hash  text NOT NULL,
    response_code integer NOT NULL,
    response_body jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (scope, key),
    CONSTRAINT idempotency_keys_key_length CHECK (char_length(key) BETWEEN 1 AND 255)
);
-- serves the expiry purge: DELETE FROM idempotency_keys WHERE created_at < now() - interval '24 hours'
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);
