DROP TABLE IF EXISTS segments;
DROP TABLE IF EXISTS customer_imports;
DROP TABLE IF EXISTS customer_attributes;
DROP INDEX IF EXISTS customers_attributes_idx;
-- an erased customer has no phone to give back and its messages still point at it: refuse rather than lose data
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM customers WHERE phone IS NULL) THEN
        RAISE EXCEPTION 'erased customers exist: the phone column cannot become NOT NULL again';
    END IF;
END;
$$;
ALTER TABLE customers
    DROP CONSTRAINT IF EXISTS customers_erased_has_no_data,
    DROP CONSTRAINT IF EXISTS customers_phone_unless_erased,
    ALTER COLUMN phone SET NOT NULL,
    DROP COLUMN IF EXISTS erased_at,
    DROP CONSTRAINT IF EXISTS customers_attributes_object,
    DROP COLUMN IF EXISTS attributes;
