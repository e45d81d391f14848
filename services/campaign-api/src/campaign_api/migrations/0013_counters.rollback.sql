DROP INDEX IF EXISTS outbound_messages_waiting_idx;
CREATE OR REPLACE FUNCTION complete_campaigns(campaign_ids bigint[]) RETURNS integer
LANGUAGE sql AS $$
    WITH completed AS (
        UPDATE campaigns c
        SET status = CASE WHEN EXISTS (
                         SELECT 1 FROM outbound_messages m WHERE m.campaign_id = c.id AND m.status = 'sent')
                     THEN 'sent' ELSE 'failed' END,
            completed_at = now()
        WHERE c.status = 'sending'
          AND (campaign_ids IS NULL OR c.id = ANY(campaign_ids))
          AND EXISTS (SELECT 1 FROM outbound_messages m WHERE m.campaign_id = c.id)
          AND NOT EXISTS (
              SELECT 1 FROM outbound_messages m
              WHERE m.campaign_id = c.id AND m.status IN ('pending', 'sending'))
        RETURNING 1
    )
    SELECT count(*)::integer FROM completed
$$;
DROP TABLE IF EXISTS audience_expansions;
DROP FUNCTION IF EXISTS compact_counters(integer);
DROP TRIGGER IF EXISTS outbound_messages_count_insert ON outbound_messages;
DROP TRIGGER IF EXISTS outbound_messages_count_update ON outbound_messages;
DROP TRIGGER IF EXISTS outbound_messages_count_delete ON outbound_messages;
DROP TRIGGER IF EXISTS campaigns_count_insert ON campaigns;
DROP TRIGGER IF EXISTS campaigns_count_update ON campaigns;
DROP TRIGGER IF EXISTS campaigns_count_delete ON campaigns;
DROP TRIGGER IF EXISTS outbound_messages_count_truncate ON outbound_messages;
DROP TRIGGER IF EXISTS campaigns_count_truncate ON campaigns;
DROP FUNCTION IF EXISTS forget_counts();
DROP FUNCTION IF EXISTS count_message_changes();
DROP FUNCTION IF EXISTS message_count_keys(text, text, integer, numeric, text);
DROP FUNCTION IF EXISTS count_campaign_changes();
DROP TABLE IF EXISTS message_count_deltas;
DROP TABLE IF EXISTS message_counts;
DROP TABLE IF EXISTS campaign_count_deltas;
DROP TABLE IF EXISTS campaign_counts;
DROP TABLE IF EXISTS queued_count_deltas;
DROP TABLE IF EXISTS queued_counts;
