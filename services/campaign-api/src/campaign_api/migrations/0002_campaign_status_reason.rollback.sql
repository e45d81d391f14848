ALTER TABLE campaigns DROP CONSTRAINT IF EXISTS campaigns_status_reason_length;
ALTER TABLE campaigns DROP COLUMN IF EXISTS status_reason;
