-- 0032 A failed feed run's error in parts, so the Feeds page can say it in
-- the page's language.
--
-- error_row is the first row of the batch that failed, feed_runs.error its
-- cause in English (runs recorded before this migration hold the whole line,
-- "batch from row 20001: ...", and no row), and error_ro the cause in
-- Romanian when the error has one
-- (the domain's errors do; a database's or a server's answer does not, and
-- is shown as it came).  A run that stopped without finishing is told by its
-- status, 'aborted', and the page says that in its own words.
ALTER TABLE feed_runs ADD COLUMN error_row bigint, ADD COLUMN error_ro text;

CREATE OR REPLACE VIEW feed_runs_shown AS
SELECT r.city_id, r.run_id, r.source, r.file_name, r.started_at, r.finished_at,
       CASE WHEN s.stopped THEN 'aborted' ELSE r.status END AS status,
       r.rows_read, r.rows_inserted, r.rows_updated, r.rows_unchanged, r.rows_rejected,
       CASE WHEN s.stopped THEN etl_aborted_message() ELSE r.error END AS error,
       r.watermark,
       CASE WHEN NOT s.stopped THEN r.error_row END AS error_row,
       CASE WHEN NOT s.stopped THEN r.error_ro END AS error_ro
FROM feed_runs r
CROSS JOIN LATERAL (
    SELECT r.status = 'running' AND NOT etl_load_running(r.city_id, r.source) AS stopped
) s;
