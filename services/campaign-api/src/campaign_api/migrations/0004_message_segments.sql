-- depends: 0003_complete_campaigns
-- The SMS segments a message was sent in, as template-svc measured its rendered text (1 for WhatsApp); NULL until
-- it is rendered. The worker stores what RenderBatch already computes, so cost reporting needs no second count.

ALTER TABLE outbound_messages ADD COLUMN segments integer;
ALTER TABLE outbound_messages ADD CONSTRAINT outbound_messages_segments_check CHECK (segments IS NULL OR segments >= 0);
