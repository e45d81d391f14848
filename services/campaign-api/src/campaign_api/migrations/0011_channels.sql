-- depends: 0010_operator_controls
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

-- ---------------------------------------------------------------------------------------------------------------
-- campaign-api's part: keys that manage senders, delivery receipts kept until their message is known, and the
-- callback endpoints' sender lookup.

ALTER TABLE api_keys
    DROP CONSTRAINT api_keys_scopes_check,
    ADD CONSTRAINT api_keys_scopes_check CHECK (
        cardinality(scopes) > 0
        AND scopes <@ ARRAY['campaigns:read', 'campaigns:write', 'campaigns:send', 'customers:read',
                            'customers:write', 'keys:admin', 'audit:read', 'campaigns:schedule',
                            'suppressions:read', 'suppressions:write', 'compliance:admin', 'inbound:read',
                            'inbound:write', 'senders:read', 'senders:write']::text[]);

-- every delivery receipt a provider sent, as it came (mapped): the message's row carries the strongest one, and a
-- receipt that arrives before the worker committed the message's provider message id waits here (applied_at NULL)
-- until the trigger below applies it
CREATE TABLE delivery_receipts (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id          bigint NOT NULL DEFAULT current_setting('app.account_id')::bigint
                            REFERENCES accounts (id) ON DELETE CASCADE,
    sender_id           bigint,
    provider            text NOT NULL,
    -- the provider's message id; for Kannel (whose sendsms names none) our outbound message id, as text
    provider_message_id text NOT NULL,
    -- the provider's own status word or number, as sent (a duplicate receipt repeats it)
    provider_status     text NOT NULL,
    -- delivered, undelivered or read; NULL for an intermediate report (queued, submitted, sent) that changes nothing
    delivery_status     text,
    delivery_code       text,
    delivery_reason     text,
    occurred_at         timestamptz,
    received_at         timestamptz NOT NULL DEFAULT now(),
    -- the message it was applied to, and when; NULL while its message is not known yet
    outbound_message_id bigint,
    applied_at          timestamptz,
    CONSTRAINT delivery_receipts_status_check
        CHECK (delivery_status IS NULL OR delivery_status IN ('delivered', 'undelivered', 'read')),
    CONSTRAINT delivery_receipts_provider_check CHECK (provider IN ('mock', 'kannel', 'aggregator', 'whatsapp')),
    CONSTRAINT delivery_receipts_id_length CHECK (char_length(provider_message_id) BETWEEN 1 AND 200),
    CONSTRAINT delivery_receipts_sender_fkey FOREIGN KEY (account_id, sender_id)
        REFERENCES senders (account_id, id) ON DELETE SET NULL (sender_id)
);
-- a provider's repeated receipt (same message, same status) is stored once: the duplicate changes nothing
CREATE UNIQUE INDEX delivery_receipts_once_key
    ON delivery_receipts (account_id, provider, provider_message_id, provider_status);
-- serves the trigger's lookup of receipts that wait for their message
CREATE INDEX delivery_receipts_waiting_idx ON delivery_receipts (provider, provider_message_id) WHERE applied_at IS NULL;
-- serves campaign-api's sweep of recent waiting receipts (WHERE applied_at IS NULL AND received_at > ..)
CREATE INDEX delivery_receipts_waiting_since_idx ON delivery_receipts (received_at) WHERE applied_at IS NULL;

GRANT SELECT, INSERT, UPDATE ON delivery_receipts TO campaign_app;
ALTER TABLE delivery_receipts ENABLE ROW LEVEL SECURITY;
CREATE POLICY account_isolation ON delivery_receipts TO campaign_app
    USING (account_id = nullif(current_setting('app.account_id', true), '')::bigint)
    WITH CHECK (account_id = nullif(current_setting('app.account_id', true), '')::bigint);

-- how strong a delivery status is: a message's row only ever moves to a stronger one (a late "delivered" after
-- "read" changes nothing; a "delivered" after an "undelivered" does, since SMSCs retry)
CREATE FUNCTION delivery_rank(status text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE status WHEN 'undelivered' THEN 1 WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 ELSE 0 END
$$;

-- when the worker stamps a message's provider (and provider message id), the receipts that came first apply: the
-- strongest final one goes on the row in the same UPDATE, so no receipt is lost to the race with the outcome commit
CREATE FUNCTION apply_waiting_receipts() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    waiting_id text := coalesce(NEW.provider_message_id, CASE WHEN NEW.provider = 'kannel' THEN NEW.id::text END);
    best record;
BEGIN
    IF waiting_id IS NULL THEN
        RETURN NEW;
    END IF;
    WITH applied AS (
        UPDATE delivery_receipts AS r SET outbound_message_id = NEW.id, applied_at = now()
        WHERE r.provider = NEW.provider AND r.provider_message_id = waiting_id AND r.applied_at IS NULL
          AND r.account_id = NEW.account_id
        RETURNING r.delivery_status, r.delivery_code, r.delivery_reason, r.occurred_at, r.received_at
    )
    SELECT * INTO best FROM applied WHERE delivery_status IS NOT NULL
    ORDER BY delivery_rank(delivery_status) DESC, received_at DESC LIMIT 1;
    IF FOUND AND delivery_rank(best.delivery_status) > delivery_rank(NEW.delivery_status) THEN
        NEW.delivery_status := best.delivery_status;
        NEW.delivery_code := best.delivery_code;
        NEW.delivery_reason := best.delivery_reason;
        NEW.delivered_at := coalesce(best.occurred_at, best.received_at);
        NEW.receipt_received_at := best.received_at;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER outbound_messages_apply_waiting_receipts
    BEFORE UPDATE OF provider, provider_message_id ON outbound_messages
    FOR EACH ROW
    WHEN (NEW.provider IS NOT NULL AND (OLD.provider IS DISTINCT FROM NEW.provider
                                        OR OLD.provider_message_id IS DISTINCT FROM NEW.provider_message_id))
    EXECUTE FUNCTION apply_waiting_receipts();

-- the callback endpoints know only the token in their URL (or, for WhatsApp, the phone number id) before the
-- account is known: these functions, run with their owner's rights, answer the one sender and nothing else
CREATE FUNCTION sender_by_callback_token(token text)
RETURNS TABLE (id bigint, account_id bigint, channel text, provider text, address text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT s.id, s.account_id, s.channel, s.provider, s.address FROM senders AS s WHERE s.callback_token = token
$$;
REVOKE ALL ON FUNCTION sender_by_callback_token(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sender_by_callback_token(text) TO campaign_app;

CREATE FUNCTION whatsapp_sender_by_phone_number_id(phone_number_id text)
RETURNS TABLE (id bigint, account_id bigint, channel text, provider text, address text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT s.id, s.account_id, s.channel, s.provider, s.address FROM senders AS s
    WHERE s.provider = 'whatsapp' AND s.address = phone_number_id ORDER BY s.id LIMIT 1
$$;
REVOKE ALL ON FUNCTION whatsapp_sender_by_phone_number_id(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION whatsapp_sender_by_phone_number_id(text) TO campaign_app;
-- serves the WhatsApp webhook's routing by phone number id
CREATE INDEX senders_whatsapp_address_idx ON senders (address) WHERE provider = 'whatsapp';

-- the other half of "a receipt that arrives before the outcome commit is not lost": when the receipt's transaction
-- and the worker's outcome commit overlap, neither sees the other's row; campaign-api's timer runs this every few
-- seconds and applies the recent waiting receipts whose message is now known. Returns the messages it changed.
CREATE FUNCTION sweep_waiting_receipts(max_age interval) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    changed integer;
BEGIN
    WITH waiting AS (
        SELECT r.id, r.account_id, r.provider, r.provider_message_id
        FROM delivery_receipts AS r
        WHERE r.applied_at IS NULL AND r.received_at > now() - max_age
    ), matched AS (
        SELECT w.id AS receipt_id, m.id AS message_id
        FROM waiting AS w
        JOIN outbound_messages AS m
          ON m.provider = w.provider AND m.provider_message_id = w.provider_message_id AND m.account_id = w.account_id
        WHERE w.provider <> 'kannel'
        UNION ALL
        SELECT w.id, m.id
        FROM waiting AS w
        JOIN outbound_messages AS m
          ON m.id = CASE WHEN w.provider_message_id ~ '^[0-9]{1,18}$' THEN w.provider_message_id::bigint END
         AND m.provider = 'kannel' AND m.account_id = w.account_id
        WHERE w.provider = 'kannel'
    ), marked AS (
        UPDATE delivery_receipts AS r SET outbound_message_id = matched.message_id, applied_at = now()
        FROM matched WHERE r.id = matched.receipt_id
        RETURNING r.outbound_message_id, r.delivery_status, r.delivery_code, r.delivery_reason, r.occurred_at,
                  r.received_at
    ), best AS (
        SELECT DISTINCT ON (marked.outbound_message_id) marked.*
        FROM marked WHERE marked.delivery_status IS NOT NULL
        ORDER BY marked.outbound_message_id, delivery_rank(marked.delivery_status) DESC, marked.received_at DESC
    )
    UPDATE outbound_messages AS m
    SET delivery_status = best.delivery_status, delivery_code = best.delivery_code,
        delivery_reason = best.delivery_reason, delivered_at = coalesce(best.occurred_at, best.received_at),
        receipt_received_at = best.received_at
    FROM best
    WHERE m.id = best.outbound_message_id AND delivery_rank(best.delivery_status) > delivery_rank(m.delivery_status);
    GET DIAGNOSTICS changed = ROW_COUNT;
    RETURN changed;
END
$$;
