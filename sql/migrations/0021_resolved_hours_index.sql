-- 0021 The resolved incidents' index also holds each one's hours to resolve.
--
-- The Resolution page's weekly trend takes the exact median of each local
-- week's resolutions, read week by week through incidents_resolved_idx
-- (migration 0010).  For a whole city that is every resolution (510,000 at
-- 1,000,000 demo incidents), and each one's hours,
-- date_part('epoch', resolved_at - created_at) / 3600.0, were computed
-- again at every read.  The same expression as a key column after
-- resolved_at: PostgreSQL returns it from an index-only scan as stored,
-- and range scans on resolved_at are unchanged.  The expression must stay
-- written exactly as the queries write it (sesizari/queries/resolution.py)
-- for PostgreSQL to match it.  An index, not a generated column: no
-- rewrite of the incidents table.
DROP INDEX incidents_resolved_idx;
CREATE INDEX incidents_resolved_idx ON incidents
    (city_id, resolved_at, (date_part('epoch', resolved_at - created_at) / 3600.0))
    INCLUDE (created_at, category_id, department_id, district_id, status)
    WHERE resolved_at IS NOT NULL;
