-- 0003 analytics: indexes for the dashboard's query layer (sesizari/queries).
--
-- * open incidents: the backlog, overdue and KPI figures read only these,
--   a small fraction of the table once the service has run for a while;
-- * status changes by time: past states ("open yesterday") are rebuilt from
--   the status events after a moment.

CREATE INDEX incidents_open_idx ON incidents (city_id, department_id, created_at)
    WHERE status IN ('new', 'acknowledged', 'in_progress');

CREATE INDEX incident_events_status_changes_idx ON incident_events (city_id, created_at)
    WHERE to_status IS NOT NULL;
