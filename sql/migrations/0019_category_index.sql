-- 0019 The incidents of a category, in creation order.
--
-- The Resolution page's percentiles per category are exact for categories
-- of up to 20,000 incidents (EXACT_PERCENTILE_LIMIT in
-- sesizari/queries/resolution.py), read from every incident of those
-- categories; larger ones come from the fixed sample.  With no index led by
-- the category, reading a small category scanned the whole city's analytics
-- index: at 1,000,000 demo incidents, 92 ms to find the 12,000 incidents
-- of one category among Alba Iulia's 580,000.  This index reads them
-- directly, and covers what the dashboard's filters read (the category
-- figures of the whole city 136-147 -> 82-91 ms, median of 9).  66 MB at
-- 1,000,000 incidents; built in about 1.5 s per million.
CREATE INDEX incidents_category_idx ON incidents (city_id, category_id, created_at)
    INCLUDE (department_id, district_id, status, acknowledged_at, resolved_at);
