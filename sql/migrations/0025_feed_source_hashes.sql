-- 0025 What a feed last said of each incident it owns, so that a reload
-- changes only what the source changed.
--
-- A load compared the source's row with the incident as it is now.  Staff
-- work on a fed incident (resolved with a text, moved to another category)
-- therefore looked like a change of the source, and the next load of the
-- same, unchanged row undid it: an Open311 pull, which revisits the last 30
-- days on every run, reopened each incident staff had closed meanwhile.
--
-- source_hashes holds, per group of fields, a hash of the values the last
-- load took from the source (etl/sql.py SOURCE_GROUPS, in that order):
--   1 status with its resolution (status, resolved_at, closed_at,
--     resolution_text: applied together, they are checked together),
--   2 category, 3 the source's department, 4 location, 5 address,
--   6 description, 7 creation time.
-- A load applies a group only when its hash differs from the stored one,
-- that is when the source (or the mapping reading it) changed it.  NULL:
-- an incident not from a feed, or loaded before this migration; such a
-- row is compared field by field, as before, once, and then gets its hashes.
ALTER TABLE incidents ADD COLUMN source_hashes integer[];

COMMENT ON COLUMN incidents.source_hashes IS
    'Feed rows: hashes of the source''s values at the last load, per group of fields'
    ' (etl/sql.py SOURCE_GROUPS); a load applies only the groups whose hash moved.';
