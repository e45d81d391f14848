-- depends: 0012_contacts
-- Counts in O(1), and a send that answers before its messages exist.
--
-- * message_counts: a campaign's messages by status, for GET /campaigns/{id} and completion;
--   campaign_counts: an account's campaigns by (channel, status, id bucket), for the lists' total_count (the bucket,
--   id >> 12, lets a `before_id` bound count whole buckets from the counters and at most 4,096 ids from the index).
--   Both are kept exact by statement-level triggers with transition tables, in the transaction that changes the rows:
--   one trigger run per statement aggregates all its rows, so the worker's batch outcome write adds one row per
--   (campaign, status) it changed, not one per message. The triggers only APPEND deltas (no UPDATE of a shared row),
--   so concurrent sends, claims and outcome writes never wait on each other's counter row; compact_counters(),
--   run every second by campaign-api, folds the deltas into one row per key. A reader sums totals and deltas.
--   Keys are (campaign, status) and (account, channel, status, bucket) with status as text: a new status needs no
--   schema change here.
-- * audience_expansions: an accepted send whose messages are still being created, chunk by chunk, by campaign-api
--   (SKIP LOCKED across replicas); `cursor_id` is the last customer id done, moved in the same transaction as the
--   chunk's INSERT, so a crash resumes where it stopped and creates nothing twice.
-- The counter tables are written only by the SECURITY DEFINER trigger functions and the compaction (owner role);
-- the API's role campaign_app may only read its account's rows.

CREATE TABLE message_counts (
    campaign_id bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    account_id  bigint NOT NULL DEFAULT current_setting('app.account_id')::bigint REFERENCES accounts (id)
                    ON DELETE CASCADE,
    status      text NOT NULL,
    n           bigint NOT NULL,
    PRIMARY KEY (campaign_id, status)
);

-- no foreign keys on the deltas: their checks would take a KEY SHARE lock on the campaign and account rows in
-- every statement of every worker (shared by all of them); the compaction drops deltas of deleted campaigns
CREATE TABLE message_count_deltas (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id bigint NOT NULL,
    account_id  bigint NOT NULL DEFAULT current_setting('app.account_id')::bigint,
    status      text NOT NULL,
    n           bigint NOT NULL
);
CREATE INDEX message_count_deltas_campaign_idx ON message_count_deltas (campaign_id);

CREATE TABLE campaign_counts (
    account_id bigint NOT NULL DEFAULT current_setting('app.account_id')::bigint REFERENCES accounts (id)
                   ON DELETE CASCADE,
    channel    text NOT NULL,
    status     text NOT NULL,
    bucket     bigint NOT NULL,
    n          bigint NOT NULL,
    PRIMARY KEY (account_id, channel, status, bucket)
);

CREATE TABLE campaign_count_deltas (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id bigint NOT NULL DEFAULT current_setting('app.account_id')::bigint,
    channel    text NOT NULL,
    status     text NOT NULL,
    bucket     bigint NOT NULL,
    n          bigint NOT NULL
);
CREATE INDEX campaign_count_deltas_account_idx ON campaign_count_deltas (account_id);

-- the rolling 24 h recipient quota: an account's messages by the minute they were created, so the quota check sums
-- at most 1,441 rows instead of counting a day of messages (it counts up to a minute more than 24 h: never less)
CREATE TABLE queued_counts (
    account_id bigint NOT NULL DEFAULT current_setting('app.account_id')::bigint REFERENCES accounts (id)
                  ON DELETE CASCADE,
    minute     timestamptz NOT NULL,
    n          bigint NOT NULL,
    PRIMARY KEY (account_id, minute)
);

CREATE TABLE queued_count_deltas (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id bigint NOT NULL DEFAULT current_setting('app.account_id')::bigint,
    minute     timestamptz NOT NULL,
    n          bigint NOT NULL
);
CREATE INDEX queued_count_deltas_account_idx ON queued_count_deltas (account_id, minute);

-- what one message row counts for, as (key, value): its status (1), its last delivery receipt ('delivery:<status>',
-- 1), and once sent its segments ('segments') and its cost per currency ('cost:<currency>', in 1/10,000 units), so
-- the campaign detail reads every figure it shows from the counters, never by scanning the campaign's messages
CREATE FUNCTION message_count_keys(status text, delivery_status text, segments integer, cost numeric,
                                   cost_currency text)
RETURNS TABLE (key text, v bigint)
LANGUAGE sql IMMUTABLE AS $$
    SELECT status, 1::bigint
    UNION ALL SELECT 'delivery:' || delivery_status, 1 WHERE delivery_status IS NOT NULL
    UNION ALL SELECT 'segments', segments::bigint WHERE status = 'sent' AND segments IS NOT NULL
    UNION ALL SELECT 'cost:' || cost_currency, round(cost * 10000)::bigint
        WHERE status = 'sent' AND cost IS NOT NULL AND cost_currency IS NOT NULL
$$;

-- the per-row side of each statement's change, netted by key; zero nets write nothing (the relay's MARK_PUBLISHED
-- changes no counted column, so it writes no delta)
CREATE FUNCTION count_message_changes() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO message_count_deltas (campaign_id, account_id, status, n)
        SELECT r.campaign_id, r.account_id, k.key, sum(k.v) FROM new_rows AS r
        CROSS JOIN LATERAL message_count_keys(r.status, r.delivery_status, r.segments, r.cost, r.cost_currency) AS k
        GROUP BY 1, 2, 3 HAVING sum(k.v) <> 0;
        INSERT INTO queued_count_deltas (account_id, minute, n)
        SELECT account_id, date_trunc('minute', created_at), count(*) FROM new_rows GROUP BY 1, 2;
    ELSIF TG_OP = 'DELETE' THEN
        -- a deleted campaign's counters go with it (foreign key cascade): count only rows of surviving campaigns
        INSERT INTO message_count_deltas (campaign_id, account_id, status, n)
        SELECT o.campaign_id, o.account_id, k.key, -sum(k.v) FROM old_rows AS o
        CROSS JOIN LATERAL message_count_keys(o.status, o.delivery_status, o.segments, o.cost, o.cost_currency) AS k
        WHERE EXISTS (SELECT 1 FROM campaigns AS c WHERE c.id = o.campaign_id)
        GROUP BY 1, 2, 3 HAVING sum(k.v) <> 0;
        INSERT INTO queued_count_deltas (account_id, minute, n)
        SELECT o.account_id, date_trunc('minute', o.created_at), -count(*) FROM old_rows AS o
        WHERE EXISTS (SELECT 1 FROM accounts AS a WHERE a.id = o.account_id)
        GROUP BY 1, 2;
    ELSE
        INSERT INTO queued_count_deltas (account_id, minute, n)
        SELECT account_id, minute, sum(d) FROM (
            SELECT account_id, date_trunc('minute', created_at) AS minute, -1 AS d FROM old_rows
            UNION ALL
            SELECT account_id, date_trunc('minute', created_at), 1 FROM new_rows
        ) AS changes
        GROUP BY 1, 2
        HAVING sum(d) <> 0;
        INSERT INTO message_count_deltas (campaign_id, account_id, status, n)
        SELECT campaign_id, account_id, key, sum(d) FROM (
            SELECT o.campaign_id, o.account_id, k.key, -k.v AS d FROM old_rows AS o
            CROSS JOIN LATERAL message_count_keys(o.status, o.delivery_status, o.segments, o.cost, o.cost_currency) AS k
            UNION ALL
            SELECT r.campaign_id, r.account_id, k.key, k.v FROM new_rows AS r
            CROSS JOIN LATERAL message_count_keys(r.status, r.delivery_status, r.segments, r.cost, r.cost_currency) AS k
        ) AS changes
        GROUP BY 1, 2, 3
        HAVING sum(d) <> 0;
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION count_campaign_changes() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO campaign_count_deltas (account_id, channel, status, bucket, n)
        SELECT account_id, channel, status, id >> 12, count(*) FROM new_rows GROUP BY 1, 2, 3, 4;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO campaign_count_deltas (account_id, channel, status, bucket, n)
        SELECT o.account_id, o.channel, o.status, o.id >> 12, -count(*) FROM old_rows AS o
        WHERE EXISTS (SELECT 1 FROM accounts AS a WHERE a.id = o.account_id)
        GROUP BY 1, 2, 3, 4;
    ELSE
        INSERT INTO campaign_count_deltas (account_id, channel, status, bucket, n)
        SELECT account_id, channel, status, bucket, sum(d) FROM (
            SELECT account_id, channel, status, id >> 12 AS bucket, -1 AS d FROM old_rows
            UNION ALL
            SELECT account_id, channel, status, id >> 12, 1 FROM new_rows
        ) AS changes
        GROUP BY 1, 2, 3, 4
        HAVING sum(d) <> 0;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER outbound_messages_count_insert AFTER INSERT ON outbound_messages
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION count_message_changes();
CREATE TRIGGER outbound_messages_count_update AFTER UPDATE ON outbound_messages
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION count_message_changes();
CREATE TRIGGER outbound_messages_count_delete AFTER DELETE ON outbound_messages
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION count_message_changes();
CREATE TRIGGER campaigns_count_insert AFTER INSERT ON campaigns
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION count_campaign_changes();
CREATE TRIGGER campaigns_count_update AFTER UPDATE ON campaigns
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION count_campaign_changes();
CREATE TRIGGER campaigns_count_delete AFTER DELETE ON campaigns
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION count_campaign_changes();

-- TRUNCATE fires no row or DELETE trigger: the counts of an emptied table are emptied with it
CREATE FUNCTION forget_counts() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    DELETE FROM message_count_deltas;
    DELETE FROM message_counts;
    DELETE FROM queued_count_deltas;
    DELETE FROM queued_counts;
    IF TG_TABLE_NAME = 'campaigns' THEN
        DELETE FROM campaign_count_deltas;
        DELETE FROM campaign_counts;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER outbound_messages_count_truncate AFTER TRUNCATE ON outbound_messages
    FOR EACH STATEMENT EXECUTE FUNCTION forget_counts();
CREATE TRIGGER campaigns_count_truncate AFTER TRUNCATE ON campaigns
    FOR EACH STATEMENT EXECUTE FUNCTION forget_counts();

-- fold up to `batch` deltas of each table into the totals; one caller at a time (an advisory lock: the others skip),
-- the deltas taken SKIP LOCKED, keys upserted in order. Returns how many deltas were folded.
CREATE FUNCTION compact_counters(batch integer DEFAULT 50000) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
    folded_messages integer;
    folded_campaigns integer;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('compact_counters')) THEN
        RETURN 0;
    END IF;
    WITH gone AS (
        DELETE FROM message_count_deltas
        WHERE id IN (SELECT id FROM message_count_deltas ORDER BY id LIMIT batch FOR UPDATE SKIP LOCKED)
        RETURNING campaign_id, account_id, status, n
    ), summed AS (
        SELECT campaign_id, account_id, status, sum(n) AS n, count(*) AS deltas FROM gone GROUP BY 1, 2, 3
    ), upserted AS (
        INSERT INTO message_counts AS t (campaign_id, account_id, status, n)
        SELECT campaign_id, account_id, status, n FROM summed
        WHERE EXISTS (SELECT 1 FROM campaigns AS c WHERE c.id = summed.campaign_id)
        ORDER BY campaign_id, status
        ON CONFLICT (campaign_id, status) DO UPDATE SET n = t.n + EXCLUDED.n
    )
    SELECT coalesce(sum(deltas), 0) INTO folded_messages FROM summed;
    WITH gone AS (
        DELETE FROM campaign_count_deltas
        WHERE id IN (SELECT id FROM campaign_count_deltas ORDER BY id LIMIT batch FOR UPDATE SKIP LOCKED)
        RETURNING account_id, channel, status, bucket, n
    ), summed AS (
        SELECT account_id, channel, status, bucket, sum(n) AS n, count(*) AS deltas FROM gone GROUP BY 1, 2, 3, 4
    ), upserted AS (
        INSERT INTO campaign_counts AS t (account_id, channel, status, bucket, n)
        SELECT account_id, channel, status, bucket, n FROM summed
        WHERE EXISTS (SELECT 1 FROM accounts AS a WHERE a.id = summed.account_id)
        ORDER BY account_id, channel, status, bucket
        ON CONFLICT (account_id, channel, status, bucket) DO UPDATE SET n = t.n + EXCLUDED.n
    )
    SELECT coalesce(sum(deltas), 0) INTO folded_campaigns FROM summed;
    WITH gone AS (
        DELETE FROM queued_count_deltas
        WHERE id IN (SELECT id FROM queued_count_deltas ORDER BY id LIMIT batch FOR UPDATE SKIP LOCKED)
        RETURNING account_id, minute, n
    ), summed AS (
        SELECT account_id, minute, sum(n) AS n, count(*) AS deltas FROM gone GROUP BY 1, 2
    ), upserted AS (
        INSERT INTO queued_counts AS t (account_id, minute, n)
        SELECT account_id, minute, n FROM summed
        WHERE EXISTS (SELECT 1 FROM accounts AS a WHERE a.id = summed.account_id)
        ORDER BY account_id, minute
        ON CONFLICT (account_id, minute) DO UPDATE SET n = t.n + EXCLUDED.n
    )
    SELECT folded_messages + coalesce(sum(deltas), 0) INTO folded_messages FROM summed;
    DELETE FROM message_counts WHERE n = 0;
    DELETE FROM campaign_counts WHERE n = 0;
    -- the quota looks back 24 hours: older minutes count for nothing any more
    DELETE FROM queued_counts WHERE n = 0 OR minute < now() - interval '25 hours';
    RETURN folded_messages + folded_campaigns;
END
$$;

-- backfill: the counts of the rows that exist now (the triggers count every change from here on)
INSERT INTO message_counts (campaign_id, account_id, status, n)
SELECT m.campaign_id, m.account_id, k.key, sum(k.v) FROM outbound_messages AS m
CROSS JOIN LATERAL message_count_keys(m.status, m.delivery_status, m.segments, m.cost, m.cost_currency) AS k
GROUP BY 1, 2, 3 HAVING sum(k.v) <> 0;
INSERT INTO campaign_counts (account_id, channel, status, bucket, n)
SELECT account_id, channel, status, id >> 12, count(*) FROM campaigns GROUP BY 1, 2, 3, 4;
INSERT INTO queued_counts (account_id, minute, n)
SELECT account_id, date_trunc('minute', created_at), count(*) FROM outbound_messages
WHERE created_at > now() - interval '25 hours' GROUP BY 1, 2;

CREATE TABLE audience_expansions (
    campaign_id   bigint PRIMARY KEY REFERENCES campaigns (id) ON DELETE CASCADE,
    account_id    bigint NOT NULL DEFAULT current_setting('app.account_id')::bigint REFERENCES accounts (id)
                      ON DELETE CASCADE,
    -- the ids the send named (sorted, distinct), or NULL for a stored segment
    customer_ids  bigint[],
    -- the stored segment's JSON (the campaign's audience at acceptance), or NULL
    segment       jsonb,
    -- customers created after the acceptance are not part of it: ids above this bound are left out
    max_customer_id bigint NOT NULL,
    -- the last customer id whose message exists; 0 before the first chunk
    cursor_id     bigint NOT NULL DEFAULT 0,
    -- the audience size at acceptance (messages_queued) and how many messages the chunks created so far
    audience_size integer NOT NULL,
    created       integer NOT NULL DEFAULT 0,
    traceparent   text,
    accepted_at   timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    CONSTRAINT audience_expansions_one_audience CHECK ((customer_ids IS NULL) <> (segment IS NULL))
);
-- serves the expansion runner's poll: the unfinished ones
CREATE INDEX audience_expansions_unfinished_idx ON audience_expansions (accepted_at) WHERE finished_at IS NULL;

GRANT SELECT ON message_counts, message_count_deltas, campaign_counts, campaign_count_deltas, queued_counts,
    queued_count_deltas TO campaign_app;
GRANT SELECT, INSERT, UPDATE ON audience_expansions TO campaign_app;
ALTER TABLE message_counts ENABLE ROW LEVEL SECURITY;
ALTER TABLE message_count_deltas ENABLE ROW LEVEL SECURITY;
ALTER TABLE campaign_counts ENABLE ROW LEVEL SECURITY;
ALTER TABLE campaign_count_deltas ENABLE ROW LEVEL SECURITY;
ALTER TABLE audience_expansions ENABLE ROW LEVEL SECURITY;
ALTER TABLE queued_counts ENABLE ROW LEVEL SECURITY;
ALTER TABLE queued_count_deltas ENABLE ROW LEVEL SECURITY;
CREATE POLICY account_isolation ON queued_counts TO campaign_app
    USING (account_id = current_setting('app.account_id', true)::bigint);
CREATE POLICY account_isolation ON queued_count_deltas TO campaign_app
    USING (account_id = current_setting('app.account_id', true)::bigint);
CREATE POLICY account_isolation ON message_counts TO campaign_app
    USING (account_id = current_setting('app.account_id', true)::bigint);
CREATE POLICY account_isolation ON message_count_deltas TO campaign_app
    USING (account_id = current_setting('app.account_id', true)::bigint);
CREATE POLICY account_isolation ON campaign_counts TO campaign_app
    USING (account_id = current_setting('app.account_id', true)::bigint);
CREATE POLICY account_isolation ON campaign_count_deltas TO campaign_app
    USING (account_id = current_setting('app.account_id', true)::bigint);
CREATE POLICY account_isolation ON audience_expansions TO campaign_app
    USING (account_id = current_setting('app.account_id', true)::bigint)
    WITH CHECK (account_id = current_setting('app.account_id', true)::bigint);

-- completion also waits for the expansion: a campaign whose messages are still being created is not complete,
-- even when every message created so far has ended
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

-- serves the detail's messages waiting for a send window: WHERE campaign_id = .. AND published_at IS NULL AND
-- not_before > now() (a range of the few waiting rows, not the campaign's whole unpublished backlog)
CREATE INDEX outbound_messages_waiting_idx ON outbound_messages (campaign_id, not_before) WHERE published_at IS NULL;
