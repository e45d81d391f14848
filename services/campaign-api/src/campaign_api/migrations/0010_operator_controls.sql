-- depends: 0009_compliance
-- Operator controls: a campaign's optional pace, and the dead-letter record of a message.
--   * pace_per_minute caps how many of a campaign's messages the outbox relay publishes per minute: each waiting
--     message gets its own not_before slot (60 / pace seconds apart), so the cap holds across every worker;
--   * a message that failed for good and went to the DLQ keeps why (a DeadLetterReason value) and when, so
--     GET /dead-letters reads the database, not the broker; a replay clears both and sends the message again.
-- Paused campaigns never complete and cancelled ones stay cancelled: complete_campaigns (0003) only moves
-- campaigns in 'sending', so it needs no change.

ALTER TABLE campaigns
    ADD COLUMN pace_per_minute integer,
    ADD CONSTRAINT campaigns_pace_per_minute_check
        CHECK (pace_per_minute IS NULL OR pace_per_minute BETWEEN 1 AND 100000);

ALTER TABLE outbound_messages
    ADD COLUMN dead_letter_reason text,
    ADD COLUMN dead_lettered_at timestamptz;

-- serves GET /dead-letters: an account's dead letters newest first and their before_id keyset
CREATE INDEX outbound_messages_dead_letters_idx ON outbound_messages (account_id, id DESC)
    WHERE dead_lettered_at IS NOT NULL;
