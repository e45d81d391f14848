UPDATE api_keys SET scopes = array(
    SELECT s FROM unnest(scopes) AS s
    WHERE s NOT IN ('suppressions:read', 'suppressions:write', 'compliance:admin', 'inbound:read', 'inbound:write'));
UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()), scopes = ARRAY['audit:read']::text[]
    WHERE cardinality(scopes) = 0;
ALTER TABLE api_keys
    DROP CONSTRAINT api_keys_scopes_check,
    ADD CONSTRAINT api_keys_scopes_check CHECK (
        cardinality(scopes) > 0
        AND scopes <@ ARRAY['campaigns:read', 'campaigns:write', 'campaigns:send', 'customers:read',
                            'customers:write', 'keys:admin', 'audit:read', 'campaigns:schedule']::text[]);
ALTER TABLE campaigns DROP CONSTRAINT IF EXISTS campaigns_validity_hours_check, DROP COLUMN IF EXISTS validity_hours;
ALTER TABLE customers DROP CONSTRAINT IF EXISTS customers_time_zone_length, DROP COLUMN IF EXISTS time_zone;
DROP TABLE IF EXISTS account_compliance;
DROP TABLE IF EXISTS suppressions;
