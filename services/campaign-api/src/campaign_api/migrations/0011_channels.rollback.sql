DROP FUNCTION IF EXISTS sweep_waiting_receipts(interval);
DROP INDEX IF EXISTS senders_whatsapp_address_idx;
DROP FUNCTION IF EXISTS whatsapp_sender_by_phone_number_id(text);
DROP FUNCTION IF EXISTS sender_by_callback_token(text);
DROP TRIGGER IF EXISTS outbound_messages_apply_waiting_receipts ON outbound_messages;
DROP FUNCTION IF EXISTS apply_waiting_receipts();
DROP FUNCTION IF EXISTS delivery_rank(text);
DROP TABLE IF EXISTS delivery_receipts;
DELETE FROM api_keys WHERE scopes && ARRAY['senders:read', 'senders:write']::text[]
    AND NOT scopes && ARRAY['campaigns:read', 'campaigns:write', 'campaigns:send', 'customers:read',
                            'customers:write', 'keys:admin', 'audit:read', 'campaigns:schedule',
                            'suppressions:read', 'suppressions:write', 'compliance:admin', 'inbound:read',
                            'inbound:write']::text[];
UPDATE api_keys SET scopes = array_remove(array_remove(scopes, 'senders:read'), 'senders:write')
    WHERE scopes && ARRAY['senders:read', 'senders:write']::text[];
ALTER TABLE api_keys
    DROP CONSTRAINT api_keys_scopes_check,
    ADD CONSTRAINT api_keys_scopes_check CHECK (
        cardinality(scopes) > 0
        AND scopes <@ ARRAY['campaigns:read', 'campaigns:write', 'campaigns:send', 'customers:read',
                            'customers:write', 'keys:admin', 'audit:read', 'campaigns:schedule',
                            'suppressions:read', 'suppressions:write', 'compliance:admin', 'inbound:read',
                            'inbound:write']::text[]);
DROP INDEX IF EXISTS outbound_messages_provider_message_idx;
ALTER TABLE outbound_messages
    DROP CONSTRAINT IF EXISTS outbound_messages_cost_currency_format,
    DROP CONSTRAINT IF EXISTS outbound_messages_delivery_status_check,
    DROP COLUMN IF EXISTS receipt_received_at,
    DROP COLUMN IF EXISTS delivered_at,
    DROP COLUMN IF EXISTS delivery_reason,
    DROP COLUMN IF EXISTS delivery_code,
    DROP COLUMN IF EXISTS delivery_status,
    DROP COLUMN IF EXISTS cost_currency,
    DROP COLUMN IF EXISTS cost,
    DROP COLUMN IF EXISTS sender_id;
ALTER TABLE campaigns DROP CONSTRAINT IF EXISTS campaigns_sender_fkey, DROP COLUMN IF EXISTS sender_id;
DROP TABLE IF EXISTS senders;
