ALTER TABLE senders
    DROP CONSTRAINT IF EXISTS senders_window_not_empty,
    DROP CONSTRAINT IF EXISTS senders_window_whole,
    DROP COLUMN IF EXISTS window_time_zone,
    DROP COLUMN IF EXISTS window_end,
    DROP COLUMN IF EXISTS window_start,
    DROP COLUMN IF EXISTS window_preset;
