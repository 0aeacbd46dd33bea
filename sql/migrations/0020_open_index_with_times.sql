-- 0020 The open incidents' index also holds when they were acknowledged
-- and resolved.
--
-- A selection of the open statuses (the Live map's and the Resolution
-- page's status filter) is a few percent of a city, and migration 0010
-- gave those incidents their own partial index.  But the Resolution page's
-- percentiles read acknowledged_at and resolved_at too, which that index
-- lacked, so PostgreSQL scanned a whole city's covering index instead: at
-- 1,000,000 demo incidents, 580,000 entries read to keep Alba Iulia's
-- 34,653 open ones (resolution figures by category 104 -> 40 ms, by
-- district 108 -> 50 ms, median of 5).  Two more columns in a partial
-- index of the open incidents: 4.2 -> 4.5 MB at 1,000,000 incidents.
DROP INDEX incidents_open_idx;
CREATE INDEX incidents_open_idx ON incidents (city_id, department_id, created_at)
    INCLUDE (category_id, district_id, status, acknowledged_at, resolved_at)
    WHERE status IN ('new', 'acknowledged', 'in_progress');
