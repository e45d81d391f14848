-- depends: 0008_lifecycle_foundation
-- Compliance at dispatch time: an account's suppression list (opt-outs), its compliance settings (a send window for
-- promotional messages, the opt-out instruction promotional SMS must carry, the stop/start keywords), a customer's
-- own time zone, and a campaign's validity. The send leaves suppressed customers out; the dispatch worker checks
-- suppression, validity and the window again right before each attempt (an opt-out or the clock moves in between).

-- one row per opted-out phone and channel (NULL: every channel); phone is E.164
CREATE TABLE suppressions (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id bigint NOT NULL DEFAULT current_setting('app.account_id')::bigint
                   REFERENCES accounts (id) ON DELETE CASCADE,
    phone      text NOT NULL,
    channel    text,
    reason     text NOT NULL DEFAULT '',
    -- api: an operator's POST /suppressions; keyword: the recipient texted a stop keyword; provider: a provider's
    -- opt-out notification
    source     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT suppressions_phone_e164 CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    CONSTRAINT suppressions_channel_check CHECK (channel IN ('sms', 'whatsapp')),
    CONSTRAINT suppressions_source_check CHECK (source IN ('api', 'keyword', 'provider')),
    CONSTRAINT suppressions_reason_length CHECK (char_length(reason) <= 500),
    -- one opt-out per phone and channel; NULLS NOT DISTINCT: one "every channel" row too. Serves the send's and
    -- the worker's lookups (account_id, phone)
    CONSTRAINT suppressions_account_phone_channel_key UNIQUE NULLS NOT DISTINCT (account_id, phone, channel)
);
-- serves GET /suppressions: WHERE account_id = .. AND id < before_id ORDER BY id DESC
CREATE INDEX suppressions_account_id_idx ON suppressions (account_id, id DESC);

-- an account's compliance settings; no row means the defaults (no send window, no opt-out instruction, the
-- default keywords). A window is [window_start, window_end) local time in window_time_zone (or in the customer's
-- own zone when the customer has one); window_preset names a preset the three values came from
CREATE TABLE account_compliance (
    account_id           bigint PRIMARY KEY DEFAULT current_setting('app.account_id')::bigint
                             REFERENCES accounts (id) ON DELETE CASCADE,
    window_preset        text,
    window_start         time,
    window_end           time,
    window_time_zone     text,
    opt_out_required     boolean NOT NULL DEFAULT true,
    opt_out_text         text,
    stop_keywords        text[] NOT NULL
                             DEFAULT ARRAY['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'OPTOUT',
                                           'REVOKE']::text[],
    start_keywords       text[] NOT NULL DEFAULT ARRAY['START', 'UNSTOP']::text[],
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT account_compliance_window_whole CHECK (
        (window_start IS NULL) = (window_end IS NULL) AND (window_start IS NULL) = (window_time_zone IS NULL)),
    CONSTRAINT account_compliance_window_not_empty CHECK (window_start <> window_end),
    CONSTRAINT account_compliance_opt_out_text_length CHECK (char_length(opt_out_text) BETWEEN 1 AND 200)
);

-- a customer's IANA time zone (validated by the API); NULL: the account's window zone applies
ALTER TABLE customers
    ADD COLUMN time_zone text,
    ADD CONSTRAINT customers_time_zone_length CHECK (char_length(time_zone) BETWEEN 1 AND 64);

-- how long after the send a message may still go out; past it the worker ends it as expired
ALTER TABLE campaigns
    ADD COLUMN validity_hours integer NOT NULL DEFAULT 24,
    ADD CONSTRAINT campaigns_validity_hours_check CHECK (validity_hours BETWEEN 1 AND 720);

-- the keys' new scopes
ALTER TABLE api_keys
    DROP CONSTRAINT api_keys_scopes_check,
    ADD CONSTRAINT api_keys_scopes_check CHECK (
        cardinality(scopes) > 0
        AND scopes <@ ARRAY['campaigns:read', 'campaigns:write', 'campaigns:send', 'customers:read',
                            'customers:write', 'keys:admin', 'audit:read', 'campaigns:schedule',
                            'suppressions:read', 'suppressions:write', 'compliance:admin', 'inbound:read',
                            'inbound:write']::text[]);

GRANT SELECT, INSERT, DELETE ON suppressions TO campaign_app;
GRANT SELECT, INSERT, UPDATE ON account_compliance TO campaign_app;
ALTER TABLE suppressions ENABLE ROW LEVEL SECURITY;
CREATE POLICY account_isolation ON suppressions TO campaign_app
    USING (account_id = nullif(current_setting('app.account_id', true), '')::bigint)
    WITH CHECK (account_id = nullif(current_setting('app.account_id', true), '')::bigint);
ALTER TABLE account_compliance ENABLE ROW LEVEL SECURITY;
CREATE POLICY account_isolation ON account_compliance TO campaign_app
    USING (account_id = nullif(current_setting('app.account_id', true), '')::bigint)
    WITH CHECK (account_id = nullif(current_setting('app.account_id', true), '')::bigint);
