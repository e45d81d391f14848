-- depends: 0004_message_segments
-- Accounts, API keys and the audit trail; every customer, campaign, message and idempotency key belongs to one
-- account, and PostgreSQL row-level security keeps each account's rows away from the others.
--
-- The API's request connections run as the role campaign_app (SET ROLE in the pool's configure callback) and set
-- the account per transaction: SELECT set_config('app.account_id', '<id>', true). The policies below compare each
-- row with that setting, so a statement that forgets its WHERE account_id still sees only the caller's rows, and a
-- transaction that never set the account sees nothing at all. The cross-account processes (the outbox relay, the
-- dispatch worker, completion, the scheduler's due list) keep the owner role, which RLS does not restrict (the
-- tables do not FORCE row-level security: forcing it would lock the owner out of the cross-account work).
-- New rows take their account_id from the same setting by default, so the INSERTs need no new parameter; an
-- INSERT outside an account fails on the DEFAULT (unset setting) or on the policy's WITH CHECK.

CREATE TABLE accounts (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name               text NOT NULL,
    -- the most recipients the account may queue in any rolling 24 hours (the send refuses beyond it)
    recipients_per_day integer NOT NULL DEFAULT 1000000,
    created_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT accounts_name_key UNIQUE (name),
    CONSTRAINT accounts_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
    CONSTRAINT accounts_recipients_per_day_check CHECK (recipients_per_day >= 0)
);

CREATE TABLE api_keys (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- NULL for a system key (the scheduler's): it belongs to no account
    account_id  bigint REFERENCES accounts (id) ON DELETE CASCADE,
    name        text NOT NULL,
    -- the key's first characters, shown in listings so a person can tell keys apart; never enough to use it
    prefix      text NOT NULL,
    -- sha256 of the whole key: keys are 32 random bytes, so a fast hash cannot be brute-forced
    secret_hash bytea NOT NULL,
    scopes      text[] NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    CONSTRAINT api_keys_prefix_key UNIQUE (prefix),
    -- serves the authentication lookup (one index probe per request)
    CONSTRAINT api_keys_secret_hash_key UNIQUE (secret_hash),
    CONSTRAINT api_keys_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
    CONSTRAINT api_keys_scopes_check CHECK (
        cardinality(scopes) > 0
        AND scopes <@ ARRAY['campaigns:read', 'campaigns:write', 'campaigns:send', 'customers:read',
                            'customers:write', 'keys:admin', 'audit:read', 'campaigns:schedule']::text[]),
    -- a system key holds only the system scope, and only a system key holds it
    CONSTRAINT api_keys_system_scope CHECK (
        (account_id IS NULL) = (scopes <@ ARRAY['campaigns:schedule']::text[]))
);
-- serves GET /api-keys: WHERE account_id = .. ORDER BY id DESC
CREATE INDEX api_keys_account_idx ON api_keys (account_id, id DESC);

CREATE TABLE audit_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  bigint NOT NULL DEFAULT current_setting('app.account_id')::bigint REFERENCES accounts (id)
                    ON DELETE CASCADE,
    -- the key that made the change; NULL when it was made outside the API (the CLI, the seed)
    api_key_id  bigint REFERENCES api_keys (id) ON DELETE SET NULL,
    action      text NOT NULL,
    target_type text NOT NULL,
    target_id   bigint,
    changes     jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT audit_events_changes_object CHECK (jsonb_typeof(changes) = 'object')
);
-- serves GET /audit-events: WHERE account_id = .. AND id < before_id ORDER BY id DESC
CREATE INDEX audit_events_account_id_idx ON audit_events (account_id, id DESC);

-- rows that exist before accounts did belong to one account created for them
INSERT INTO accounts (name)
SELECT 'default'
WHERE EXISTS (SELECT 1 FROM customers) OR EXISTS (SELECT 1 FROM campaigns) OR EXISTS (SELECT 1 FROM idempotency_keys);

ALTER TABLE customers ADD COLUMN account_id bigint;
ALTER TABLE campaigns ADD COLUMN account_id bigint;
ALTER TABLE outbound_messages ADD COLUMN account_id bigint;
ALTER TABLE idempotency_keys ADD COLUMN account_id bigint;
UPDATE customers SET account_id = (SELECT id FROM accounts WHERE name = 'default');
UPDATE campaigns SET account_id = (SELECT id FROM accounts WHERE name = 'default');
UPDATE outbound_messages SET account_id = (SELECT id FROM accounts WHERE name = 'default');
UPDATE idempotency_keys SET account_id = (SELECT id FROM accounts WHERE name = 'default');

ALTER TABLE customers
    ALTER COLUMN account_id SET NOT NULL,
    ALTER COLUMN account_id SET DEFAULT current_setting('app.account_id')::bigint,
    ADD CONSTRAINT customers_account_fkey FOREIGN KEY (account_id) REFERENCES accounts (id),
    DROP CONSTRAINT customers_phone_key,
    -- the same phone may be a customer of two accounts; serves POST /customers duplicate detection (409)
    ADD CONSTRAINT customers_account_phone_key UNIQUE (account_id, phone),
    -- the target of outbound_messages' same-account foreign key; serves GET /customers (id DESC per account)
    ADD CONSTRAINT customers_account_id_key UNIQUE (account_id, id);

ALTER TABLE campaigns
    ALTER COLUMN account_id SET NOT NULL,
    ALTER COLUMN account_id SET DEFAULT current_setting('app.account_id')::bigint,
    ADD CONSTRAINT campaigns_account_fkey FOREIGN KEY (account_id) REFERENCES accounts (id),
    -- the target of outbound_messages' same-account foreign key; serves GET /campaigns (id DESC per account)
    ADD CONSTRAINT campaigns_account_id_key UNIQUE (account_id, id);
DROP INDEX campaigns_status_id_idx;
DROP INDEX campaigns_channel_id_idx;
-- serve GET /campaigns?status=.. and ?channel=..: per account, ORDER BY id DESC (and the keyset variant id < %s)
CREATE INDEX campaigns_account_status_id_idx ON campaigns (account_id, status, id DESC);
CREATE INDEX campaigns_account_channel_id_idx ON campaigns (account_id, channel, id DESC);

-- a message's campaign and customer are of its own account: the foreign keys say so, since their checks do not
-- go through row-level security (a send naming another account's customer id fails like an unknown id)
ALTER TABLE outbound_messages
    ALTER COLUMN account_id SET NOT NULL,
    ALTER COLUMN account_id SET DEFAULT current_setting('app.account_id')::bigint,
    DROP CONSTRAINT outbound_messages_campaign_id_fkey,
    DROP CONSTRAINT outbound_messages_customer_id_fkey,
    ADD CONSTRAINT outbound_messages_campaign_fkey FOREIGN KEY (account_id, campaign_id)
        REFERENCES campaigns (account_id, id) ON DELETE CASCADE,
    ADD CONSTRAINT outbound_messages_customer_fkey FOREIGN KEY (account_id, customer_id)
        REFERENCES customers (account_id, id) ON DELETE RESTRICT;
-- serves the rolling 24 h recipient quota: WHERE account_id = .. AND created_at > now() - interval '24 hours'
CREATE INDEX outbound_messages_account_created_idx ON outbound_messages (account_id, created_at);

ALTER TABLE idempotency_keys
    ALTER COLUMN account_id SET NOT NULL,
    ALTER COLUMN account_id SET DEFAULT current_setting('app.account_id')::bigint,
    ADD CONSTRAINT idempotency_keys_account_fkey FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE,
    DROP CONSTRAINT idempotency_keys_pkey,
    ADD CONSTRAINT idempotency_keys_pkey PRIMARY KEY (account_id, scope, key);

-- the role the API's request connections switch to; roles are cluster-wide, so create it once (two databases
-- migrated at the same moment may race: the loser's duplicate is fine)
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'campaign_app') THEN
        CREATE ROLE campaign_app NOLOGIN NOBYPASSRLS;
    END IF;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN
        NULL;
    WHEN insufficient_privilege THEN
        RAISE EXCEPTION 'the role campaign_app is missing and % may not create roles', current_user
            USING HINT = 'have an administrator run: CREATE ROLE campaign_app NOLOGIN NOBYPASSRLS; '
                         'GRANT campaign_app TO ' || current_user || '; then migrate again';
END;
$$;
-- the migrating (owning) role must be a member to SET ROLE campaign_app; a superuser needs no membership
DO $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
       AND NOT pg_has_role(current_user, 'campaign_app', 'MEMBER') THEN
        EXECUTE format('GRANT campaign_app TO %I', current_user);
    END IF;
END;
$$;

GRANT SELECT ON accounts TO campaign_app;
GRANT SELECT, INSERT, UPDATE ON api_keys TO campaign_app;
GRANT SELECT, INSERT ON audit_events TO campaign_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON customers, campaigns, outbound_messages, idempotency_keys TO campaign_app;

-- one policy per account-owned table: visible and writable only inside the account the transaction set
-- (nullif: a setting that was set earlier in the session reads '' afterwards, and '' is no account)
ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;
CREATE POLICY account_isolation ON accounts TO campaign_app
    USING (id = nullif(current_setting('app.account_id', true), '')::bigint);
ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY account_isolation ON api_keys TO campaign_app
    USING (account_id = nullif(current_setting('app.account_id', true), '')::bigint)
    WITH CHECK (account_id = nullif(current_setting('app.account_id', true), '')::bigint);
ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY account_isolation ON audit_events TO campaign_app
    USING (account_id = nullif(current_setting('app.account_id', true), '')::bigint)
    WITH CHECK (account_id = nullif(current_setting('app.account_id', true), '')::bigint);
ALTER TABLE customers ENABLE ROW LEVEL SECURITY;
CREATE POLICY account_isolation ON customers TO campaign_app
    USING (account_id = nullif(current_setting('app.account_id', true), '')::bigint)
    WITH CHECK (account_id = nullif(current_setting('app.account_id', true), '')::bigint);
ALTER TABLE campaigns ENABLE ROW LEVEL SECURITY;
CREATE POLICY account_isolation ON campaigns TO campaign_app
    USING (account_id = nullif(current_setting('app.account_id', true), '')::bigint)
    WITH CHECK (account_id = nullif(current_setting('app.account_id', true), '')::bigint);
ALTER TABLE outbound_messages ENABLE ROW LEVEL SECURITY;
CREATE POLICY account_isolation ON outbound_messages TO campaign_app
    USING (account_id = nullif(current_setting('app.account_id', true), '')::bigint)
    WITH CHECK (account_id = nullif(current_setting('app.account_id', true), '')::bigint);
ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY account_isolation ON idempotency_keys TO campaign_app
    USING (account_id = nullif(current_setting('app.account_id', true), '')::bigint)
    WITH CHECK (account_id = nullif(current_setting('app.account_id', true), '')::bigint);

-- authentication happens before the account is known: this function, run with its owner's rights, answers the
-- one key whose hash matches (revoked or not: the caller decides), and nothing else of the table
CREATE FUNCTION api_key_by_hash(key_hash bytea)
RETURNS TABLE (id bigint, account_id bigint, scopes text[], secret_hash bytea, revoked_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT k.id, k.account_id, k.scopes, k.secret_hash, k.revoked_at FROM api_keys AS k WHERE k.secret_hash = key_hash
$$;
REVOKE ALL ON FUNCTION api_key_by_hash(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api_key_by_hash(bytea) TO campaign_app;
