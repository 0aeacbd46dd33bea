-- 0028 A feed's row older than the one already loaded changes nothing.
--
-- A source that says when each row last changed (Open311's
-- updated_datetime; a mapping's [columns] updated) can be read out of
-- order: an Open311 page served from a cache, an older export loaded
-- after a newer one.  Until now the last load won, so an older copy of a
-- request closed since reopened it.
--
-- source_updated_at keeps that time for the version last applied; a load
-- leaves an incident alone when its row is older (counted as unchanged).
-- NULL: a source without such a column, or a row loaded before this
-- migration: the row is applied as before, and its time stored.
ALTER TABLE incidents ADD COLUMN source_updated_at timestamptz;

COMMENT ON COLUMN incidents.source_updated_at IS
    'Feed rows: when the source last changed the row, as of the version applied; an older'
    ' version is not applied (migration 0028).';
