-- depends: 0013_counters
-- Sender throughput held across every worker replica: a token bucket per sender in PostgreSQL (no new moving part),
-- and what a WhatsApp sender sends outside the 24-hour customer service window.

-- one row per sender that has sent: the bucket's state. The worker's own bookkeeping (it runs as the owner role,
-- across accounts); the API never reads it, so it has no account column, RLS policy or grant of its own: it is
-- reached only through its sender, and goes with it
CREATE TABLE sender_throughput (
    sender_id     bigint PRIMARY KEY REFERENCES senders (id) ON DELETE CASCADE,
    -- the bucket as a schedule (GCRA): the earliest time the next token may be spent; each taker reserves its
    -- tokens from here at the sender's rate, so takers across replicas never overlap and never exceed the rate
    next_free_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- the provider said "slow down": until then the sender runs at half its rate
    slow_until    timestamptz,
    throttles     bigint NOT NULL DEFAULT 0
);

-- Take `p_tokens` (SMS: the message's segments; WhatsApp: 1 per message) for a sender whose limit is `p_rate` per
-- second. Answers how long the caller waits before the first of them may go (0 when the bucket is idle) and the
-- rate it was charged at: the caller spaces its messages at that rate from there. When the wait would exceed
-- `p_max_wait_s` nothing is taken (taken = false): the caller hands its messages back until then instead of
-- holding them. One row lock per call.
CREATE FUNCTION take_sender_tokens(
    p_sender_id bigint, p_tokens double precision, p_rate double precision, p_max_wait_s double precision,
    OUT wait_s double precision, OUT rate_per_s double precision, OUT taken boolean
) LANGUAGE plpgsql AS $$
DECLARE
    v_next timestamptz;
    v_slow timestamptz;
    v_now  timestamptz;
    v_start timestamptz;
BEGIN
    IF p_tokens <= 0 OR p_rate <= 0 THEN
        RAISE EXCEPTION 'take_sender_tokens: tokens (%) and rate (%) must be positive', p_tokens, p_rate;
    END IF;
    INSERT INTO sender_throughput (sender_id) VALUES (p_sender_id) ON CONFLICT (sender_id) DO NOTHING;
    SELECT next_free_at, slow_until INTO v_next, v_slow
    FROM sender_throughput WHERE sender_id = p_sender_id FOR UPDATE;
    v_now := clock_timestamp();  -- read after the lock: a wait for it is no credit
    rate_per_s := CASE WHEN v_slow > v_now THEN p_rate / 2 ELSE p_rate END;
    v_start := greatest(v_next, v_now);  -- an idle bucket saves nothing up: no burst above the rate
    wait_s := extract(epoch FROM v_start - v_now);
    taken := wait_s <= p_max_wait_s;
    IF taken THEN
        UPDATE sender_throughput SET next_free_at = v_start + make_interval(secs => p_tokens / rate_per_s)
        WHERE sender_id = p_sender_id;
    END IF;
END
$$;

-- The provider throttled the sender: halve its rate for `p_for_s` seconds from now (a later throttle extends it).
CREATE FUNCTION slow_sender(p_sender_id bigint, p_for_s double precision) RETURNS timestamptz
LANGUAGE sql AS $$
    INSERT INTO sender_throughput AS t (sender_id, slow_until, throttles)
    VALUES (p_sender_id, clock_timestamp() + make_interval(secs => p_for_s), 1)
    ON CONFLICT (sender_id) DO UPDATE
        SET slow_until = greatest(t.slow_until, EXCLUDED.slow_until), throttles = t.throttles + 1
    RETURNING slow_until
$$;

-- WhatsApp: outside the 24-hour window only an approved template may go; the sender names it and its language.
-- The rendered campaign text fills the template's single body parameter ({{1}})
ALTER TABLE senders
    ADD COLUMN whatsapp_template text,
    ADD COLUMN whatsapp_template_language text,
    ADD CONSTRAINT senders_whatsapp_template_format
        CHECK (whatsapp_template IS NULL OR (whatsapp_template ~ '^[a-z0-9_]+$' AND char_length(whatsapp_template) <= 512)),
    ADD CONSTRAINT senders_whatsapp_template_language_format
        CHECK (whatsapp_template_language IS NULL OR whatsapp_template_language ~ '^[a-z]{2,3}(_[A-Z]{2})?$');
