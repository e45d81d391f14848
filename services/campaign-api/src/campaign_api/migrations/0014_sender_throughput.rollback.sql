ALTER TABLE senders
    DROP CONSTRAINT IF EXISTS senders_whatsapp_template_language_format,
    DROP CONSTRAINT IF EXISTS senders_whatsapp_template_format,
    DROP COLUMN IF EXISTS whatsapp_template_language,
    DROP COLUMN IF EXISTS whatsapp_template;
DROP FUNCTION IF EXISTS slow_sender(bigint, double precision);
DROP FUNCTION IF EXISTS take_sender_tokens(bigint, double precision, double precision, double precision);
DROP TABLE IF EXISTS sender_throughput;
