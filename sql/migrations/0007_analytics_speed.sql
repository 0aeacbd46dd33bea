-- 0007 analytics speed: every dashboard figure reads the filtered incidents of
-- one city (sesizari/queries/filters.py).  This covering index holds every
-- column those queries need apart from the free text, so a whole-city scan is
-- an index-only scan of a narrow index instead of a walk over the wide heap
-- rows (descriptions, addresses, resolution texts).  city_id leads, as in
-- every key of the schema.
CREATE INDEX incidents_analytics_idx ON incidents (city_id, created_at)
    INCLUDE (incident_id, category_id, department_id, district_id, status,
             acknowledged_at, resolved_at, geom);
