-- depends: 0014_sender_throughput
-- A sender's own send window for promotional messages, narrower than the account's: a message goes only when the
-- account's window (account_compliance) and its sender's are both open. Same shape as the account's: [start, end)
-- local time, read in the customer's zone when the customer has one and in window_time_zone otherwise;
-- window_preset names the preset the three values came from. All NULL: the sender adds no window.

ALTER TABLE senders
    ADD COLUMN window_preset    text,
    ADD COLUMN window_start     time,
    ADD COLUMN window_end       time,
    ADD COLUMN window_time_zone text,
    ADD CONSTRAINT senders_window_whole CHECK (
        (window_start IS NULL) = (window_end IS NULL) AND (window_start IS NULL) = (window_time_zone IS NULL)
        AND (window_preset IS NULL OR window_start IS NOT NULL)),
    ADD CONSTRAINT senders_window_not_empty CHECK (window_start <> window_end);
