-- 0010 KPI indexes: the Live map's headline tiles (open now, overdue, new
-- today, median resolution time over 30 days) each count a small part of a
-- city: the open incidents, those created since yesterday, those resolved in
-- the last 60 days.  Each part is read through its own index, without
-- visiting the table (sesizari/queries/overview.py), instead of one pass over
-- every incident of the city (580,000 in the benchmark: 0.53 s -> 0.13 s).

-- The open incidents, with what the tiles and the backlog filter and count
-- by, so they are read from the index alone.
DROP INDEX incidents_open_idx;
CREATE INDEX incidents_open_idx ON incidents (city_id, department_id, created_at)
    INCLUDE (category_id, district_id, status)
    WHERE status IN ('new', 'acknowledged', 'in_progress');

-- Resolved incidents by resolution time.  The old key (city, category,
-- resolved_at) served a time window only within one category; every reader
-- wants a window over the whole city or one department (the KPI medians,
-- the routing estimate of sesizari/commitments.py, the accountability
-- sample), and the included columns let them filter without the table.
DROP INDEX incidents_resolved_idx;
CREATE INDEX incidents_resolved_idx ON incidents (city_id, resolved_at)
    INCLUDE (created_at, category_id, department_id, district_id, status)
    WHERE resolved_at IS NOT NULL;

-- (city_id, created_at) is the key of incidents_analytics_idx (0009) too, which
-- serves every reader of this one; each index kept costs every insert.
DROP INDEX incidents_city_id_created_at_idx;
