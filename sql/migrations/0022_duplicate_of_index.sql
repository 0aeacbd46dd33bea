-- 0022 An index on the incidents marked as another's duplicate.
--
-- Deleting an incident (an import into the wrong city taken back, an
-- erasure request) makes PostgreSQL check that no incident names it as its
-- original (foreign key incidents_city_id_duplicate_of_fkey).  Without an
-- index on duplicate_of that check scans every incident of the city: 237 ms
-- per deleted incident at 450,000 incidents, over two hours to delete a
-- 30,000-row import.  Partial: only duplicates have an entry, so inserts of
-- other incidents do not pay for it.  Every other foreign key that refers
-- to incidents already leads an index of its table.
CREATE INDEX incidents_duplicate_idx ON incidents (city_id, duplicate_of)
    WHERE duplicate_of IS NOT NULL;
