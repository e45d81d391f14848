-- Campaign completion, decided in one place: the worker calls it after each commit for the campaigns of its
-- batch, the relay's sweep calls it for every sending campaign (NULL) as a backstop.
-- Race-free: the UPDATE re-checks status = 'sending' under the row lock, so concurrent callers agree, and a caller
-- that runs after its own commit sees every committed outcome, so the last committer always completes.
CREATE FUNCTION complete_campaigns(campaign_ids bigint[]) RETURNS integer
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
