-- 0026 Reject messages in Romanian too.
--
-- feed_rejects.message is the English text the command line prints and the
-- reject CSV carries.  The Data feeds page is read by the city's staff,
-- in Romanian by default: message_ro is the same message in Romanian
-- (etl/messages.py writes both at load time, from the same row and mapping).
-- NULL for rows rejected before this migration: the page shows their
-- English message.
ALTER TABLE feed_rejects
    ADD COLUMN message_ro text CHECK (length(message_ro) <= 1000);

COMMENT ON COLUMN feed_rejects.message_ro IS
    'The reject message in Romanian (message: in English); NULL before migration 0026.';
