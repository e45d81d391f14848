-- depends: 0015_sender_windows
-- Segments' numeric and date ranges on custom attributes, served by btree indexes.
--
-- The values stay in customers.attributes (jsonb, what templates read and the GIN index serves for equality and
-- one-of); the number and date ones are also kept, typed, in a side table with one btree per type over
-- (account_id, name, value). Chosen over one expression index per declared attribute: a declaration would need
-- the table owner's rights and a CREATE INDEX CONCURRENTLY outside the request's transaction, and every insert
-- into customers would pay for every account's indexes (their partial predicates are evaluated per row), so the
-- cost of a write would grow with the number of accounts. The side table's size grows only with the values.
--
-- Statement-level triggers with transition tables keep it in step with customers, set-based: one INSERT ... SELECT
-- per statement however many rows it wrote (an import's merge of a million rows fires each once), so every writer
-- (create, PATCH, import, erase, delete) is covered without code of its own. A customer without number or date
-- values writes nothing here.
CREATE TABLE customer_attribute_values (
    account_id  bigint NOT NULL,
    customer_id bigint NOT NULL,
    name        text NOT NULL,
    -- the API keeps numbers as JSON doubles, so double precision holds each one exactly; and its comparisons are
    -- leakproof, which row-level security requires of an index condition (numeric's are not: a range on a numeric
    -- column under RLS is filtered row by row after the index, not bounded by it)
    number      double precision,
    day         date,
    -- serves the triggers' delete of a customer's values
    CONSTRAINT customer_attribute_values_pkey PRIMARY KEY (customer_id, name),
    CONSTRAINT customer_attribute_values_one_value CHECK ((number IS NULL) <> (day IS NULL))
);
-- serve segments' ranges: WHERE name = ... AND number >= ... AND number <= ... within the account (RLS adds it);
-- customer_id included so the scan needs no heap visit once the table is vacuumed
CREATE INDEX customer_attribute_values_number_idx ON customer_attribute_values (account_id, name, number)
    INCLUDE (customer_id) WHERE number IS NOT NULL;
CREATE INDEX customer_attribute_values_day_idx ON customer_attribute_values (account_id, name, day)
    INCLUDE (customer_id) WHERE day IS NOT NULL;

CREATE FUNCTION customer_attribute_values_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO customer_attribute_values (account_id, customer_id, name, number, day)
        SELECT n.account_id, n.id, d.name,
               CASE WHEN d.type = 'number' THEN (v.value #>> '{}')::double precision END,
               CASE WHEN d.type = 'date' THEN (v.value #>> '{}')::date END
        FROM new_rows AS n
        CROSS JOIN LATERAL jsonb_each(n.attributes) AS v(name, value)
        JOIN customer_attributes AS d ON d.account_id = n.account_id AND d.name = v.name
        WHERE n.attributes <> '{}'::jsonb AND d.type IN ('number', 'date')
            AND jsonb_typeof(v.value) = CASE d.type WHEN 'number' THEN 'number' ELSE 'string' END;
    ELSIF TG_OP = 'UPDATE' THEN
        -- only customers whose attributes changed: an erasure ('{}') removes them all
        DELETE FROM customer_attribute_values AS kept
        USING old_rows AS o JOIN new_rows AS n ON n.id = o.id
        WHERE kept.customer_id = o.id AND o.attributes <> '{}'::jsonb AND n.attributes <> o.attributes;
        INSERT INTO customer_attribute_values (account_id, customer_id, name, number, day)
        SELECT n.account_id, n.id, d.name,
               CASE WHEN d.type = 'number' THEN (v.value #>> '{}')::double precision END,
               CASE WHEN d.type = 'date' THEN (v.value #>> '{}')::date END
        FROM old_rows AS o
        JOIN new_rows AS n ON n.id = o.id
        CROSS JOIN LATERAL jsonb_each(n.attributes) AS v(name, value)
        JOIN customer_attributes AS d ON d.account_id = n.account_id AND d.name = v.name
        WHERE n.attributes <> '{}'::jsonb AND n.attributes <> o.attributes AND d.type IN ('number', 'date')
            AND jsonb_typeof(v.value) = CASE d.type WHEN 'number' THEN 'number' ELSE 'string' END;
    ELSE
        DELETE FROM customer_attribute_values AS kept
        USING old_rows AS o
        WHERE kept.customer_id = o.id AND o.attributes <> '{}'::jsonb;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER customer_attribute_values_insert AFTER INSERT ON customers
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION customer_attribute_values_sync();
CREATE TRIGGER customer_attribute_values_update AFTER UPDATE ON customers
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION customer_attribute_values_sync();
CREATE TRIGGER customer_attribute_values_delete AFTER DELETE ON customers
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION customer_attribute_values_sync();
-- TRUNCATE fires no DELETE trigger: an emptied customers table empties its values too
CREATE FUNCTION customer_attribute_values_forget() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    DELETE FROM customer_attribute_values;
    RETURN NULL;
END
$$;
CREATE TRIGGER customer_attribute_values_truncate AFTER TRUNCATE ON customers
    FOR EACH STATEMENT EXECUTE FUNCTION customer_attribute_values_forget();

-- the values already stored
INSERT INTO customer_attribute_values (account_id, customer_id, name, number, day)
SELECT c.account_id, c.id, d.name,
       CASE WHEN d.type = 'number' THEN (v.value #>> '{}')::double precision END,
       CASE WHEN d.type = 'date' THEN (v.value #>> '{}')::date END
FROM customers AS c
CROSS JOIN LATERAL jsonb_each(c.attributes) AS v(name, value)
JOIN customer_attributes AS d ON d.account_id = c.account_id AND d.name = v.name
WHERE c.attributes <> '{}'::jsonb AND d.type IN ('number', 'date')
    AND jsonb_typeof(v.value) = CASE d.type WHEN 'number' THEN 'number' ELSE 'string' END;

GRANT SELECT, INSERT, DELETE ON customer_attribute_values TO campaign_app;
ALTER TABLE customer_attribute_values ENABLE ROW LEVEL SECURITY;
CREATE POLICY account_isolation ON customer_attribute_values TO campaign_app
    USING (account_id = nullif(current_setting('app.account_id', true), '')::bigint)
    WITH CHECK (account_id = nullif(current_setting('app.account_id', true), '')::bigint);
