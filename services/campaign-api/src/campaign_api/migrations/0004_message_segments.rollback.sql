ALTER TABLE outbound_messages DROP CONSTRAINT IF EXISTS outbound_messages_segments_check;
ALTER TABLE outbound_messages DROP COLUMN IF EXISTS segments;
