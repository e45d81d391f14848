DROP INDEX IF EXISTS outbound_messages_dead_letters_idx;
ALTER TABLE outbound_messages
    DROP COLUMN IF EXISTS dead_lettered_at,
    DROP COLUMN IF EXISTS dead_letter_reason;
-- a paced message waits in the outbox for its slot: without pace it goes at once
UPDATE outbound_messages SET not_before = '-infinity'
    WHERE published_at IS NULL AND not_before > now() AND not_before <> 'infinity';
ALTER TABLE campaigns
    DROP CONSTRAINT IF EXISTS campaigns_pace_per_minute_check,
    DROP COLUMN IF EXISTS pace_per_minute;
