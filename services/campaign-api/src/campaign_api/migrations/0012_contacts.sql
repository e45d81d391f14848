-- depends: 0011_channels
-- Contacts at scale: CSV import jobs, custom attributes declared per account, customers' attribute values,
-- saved segments, and erasure.
--
-- Attribute values live in one jsonb column on customers rather than a typed side table: a recipient's values
-- travel with its row (the worker's claim loads one more column, templates read them as fields), an import
-- writes them in the same merge as the built-in fields, and the account's declarations (customer_attributes)
-- keep them typed: the API validates every value against its declaration before it is stored. Segments' equality
-- and one-of filters are containment tests (attributes @> '{"tier":"gold"}'), which the GIN index below serves;
-- numeric and date ranges are compared on the account's rows (dates are stored as ISO text, which sorts as dates).

ALTER TABLE customers
    ADD COLUMN attributes jsonb NOT NULL DEFAULT '{}'::jsonb,
    ADD CONSTRAINT customers_attributes_object CHECK (jsonb_typeof(attributes) = 'object'),
    -- an erased customer keeps its row (its messages still count in their campaigns) but no personal data
    ADD COLUMN erased_at timestamptz,
    ALTER COLUMN phone DROP NOT NULL,
    -- only an erased customer may have no phone; the unique (account_id, phone) key ignores NULLs
    ADD CONSTRAINT customers_phone_unless_erased CHECK (phone IS NOT NULL OR erased_at IS NOT NULL),
    ADD CONSTRAINT customers_erased_has_no_data CHECK (
        erased_at IS NULL
        OR (phone IS NULL AND first_name IS NULL AND last_name IS NULL AND location IS NULL
            AND preferred_product IS NULL AND attributes = '{}'::jsonb));
-- serves segments' attribute equality and one-of filters (attributes @> ...)
CREATE INDEX customers_attributes_idx ON customers USING gin (attributes jsonb_path_ops);

CREATE TABLE customer_attributes (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id bigint NOT NULL DEFAULT current_setting('app.account_id')::bigint REFERENCES accounts (id)
                   ON DELETE CASCADE,
    name       text NOT NULL,
    type       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- serves the declarations' lookup by name (validation, templates) and GET /customer-attributes
    CONSTRAINT customer_attributes_account_name_key UNIQUE (account_id, name),
    CONSTRAINT customer_attributes_type_check CHECK (type IN ('text', 'number', 'boolean', 'date')),
    CONSTRAINT customer_attributes_name_check CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$')
);

CREATE TABLE customer_imports (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id    bigint NOT NULL DEFAULT current_setting('app.account_id')::bigint REFERENCES accounts (id)
                      ON DELETE CASCADE,
    status        text NOT NULL DEFAULT 'queued',
    file_name     text,
    rows_read     bigint NOT NULL DEFAULT 0,
    rows_imported bigint NOT NULL DEFAULT 0,
    rows_updated  bigint NOT NULL DEFAULT 0,
    rows_rejected bigint NOT NULL DEFAULT 0,
    -- the first rejected rows ({row, column, reason}); rows_rejected counts them all
    rejected      jsonb NOT NULL DEFAULT '[]'::jsonb,
    error         text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    CONSTRAINT customer_imports_status_check CHECK (status IN ('queued', 'running', 'done', 'failed')),
    CONSTRAINT customer_imports_rejected_array CHECK (jsonb_typeof(rejected) = 'array')
);
CREATE TRIGGER customer_imports_updated_at BEFORE UPDATE ON customer_imports
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE segments (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id bigint NOT NULL DEFAULT current_setting('app.account_id')::bigint REFERENCES accounts (id)
                   ON DELETE CASCADE,
    name       text NOT NULL,
    -- the filter as the API took it (the same shape as a campaign audience's segment)
    definition jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT segments_account_name_key UNIQUE (account_id, name),
    -- serves GET /segments (id DESC per account)
    CONSTRAINT segments_account_id_key UNIQUE (account_id, id),
    CONSTRAINT segments_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
    CONSTRAINT segments_definition_object CHECK (jsonb_typeof(definition) = 'object')
);

GRANT SELECT, INSERT ON customer_attributes TO campaign_app;
GRANT SELECT, INSERT, UPDATE ON customer_imports TO campaign_app;
GRANT SELECT, INSERT ON segments TO campaign_app;

ALTER TABLE customer_attributes ENABLE ROW LEVEL SECURITY;
CREATE POLICY account_isolation ON customer_attributes TO campaign_app
    USING (account_id = nullif(current_setting('app.account_id', true), '')::bigint)
    WITH CHECK (account_id = nullif(current_setting('app.account_id', true), '')::bigint);
ALTER TABLE customer_imports ENABLE ROW LEVEL SECURITY;
CREATE POLICY account_isolation ON customer_imports TO campaign_app
    USING (account_id = nullif(current_setting('app.account_id', true), '')::bigint)
    WITH CHECK (account_id = nullif(current_setting('app.account_id', true), '')::bigint);
ALTER TABLE segments ENABLE ROW LEVEL SECURITY;
CREATE POLICY account_isolation ON segments TO campaign_app
    USING (account_id = nullif(current_setting('app.account_id', true), '')::bigint)
    WITH CHECK (account_id = nullif(current_setting('app.account_id', true), '')::bigint);
