-- the completion check of 0013, over the messages
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
          AND NOT EXISTS (
              SELECT 1 FROM audience_expansions e WHERE e.campaign_id = c.id AND e.finished_at IS NULL)
        RETURNING 1
    )
    SELECT count(*)::integer FROM completed
$$;

DROP FUNCTION IF EXISTS campaign_message_counts(bigint);
