-- depends: 0001_initial_schema
-- Why a campaign ended in its status when the API decided it rather than its messages, e.g. a scheduled campaign
-- that fell due with no audience or an audience matching nobody; NULL otherwise. Shown by GET /campaigns/{id}.

ALTER TABLE campaigns ADD COLUMN status_reason text;
ALTER TABLE campaigns ADD CONSTRAINT campaigns_status_reason_length CHECK (char_length(status_reason) <= 500);
