-- 0023 A feed run that stopped without finishing is shown as such.
--
-- A load killed (kill -9, a crash of its machine) cannot record its end:
-- its run stays 'running' until the next load of the same source marks it
-- 'aborted'.  Until then the dashboard and `python -m etl runs` showed it
-- as running, maybe for weeks.  A load holds a session advisory lock on its
-- (city, source) for its whole run, and PostgreSQL releases that lock when
-- the session ends, however it ends (at once for a killed process; for a
-- machine that vanished, once the server finds its connection dead): a
-- 'running' run whose lock nobody holds has stopped.  feed_runs_shown is feed_runs with such runs shown as
-- 'aborted', with the message their next load will record.

-- The advisory lock key of one source's loads into one city (etl/load.py
-- takes it through this function too).
CREATE FUNCTION etl_lock_key(p_city integer, p_source text) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN hashtextextended('etl:' || p_city || ':' || p_source, 0);

-- Whether a session of this database holds that lock now.  pg_locks shows a
-- bigint key as its high half (classid) and low half (objid), objsubid 1.
CREATE FUNCTION etl_load_running(p_city integer, p_source text) RETURNS boolean
    LANGUAGE sql STABLE
    RETURN EXISTS (
        SELECT 1
        FROM pg_locks l, (SELECT etl_lock_key(p_city, p_source) AS k) key
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND l.classid = oid((key.k >> 32) & 4294967295)
          AND l.objid = oid(key.k & 4294967295)
    );

-- What a run that stopped before its end records (the next load writes it).
CREATE FUNCTION etl_aborted_message() RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN 'the loading process stopped before the end; rows committed by its finished'
           ' batches are kept';

CREATE VIEW feed_runs_shown AS
SELECT r.city_id, r.run_id, r.source, r.file_name, r.started_at, r.finished_at,
       CASE WHEN s.stopped THEN 'aborted' ELSE r.status END AS status,
       r.rows_read, r.rows_inserted, r.rows_updated, r.rows_unchanged, r.rows_rejected,
       CASE WHEN s.stopped THEN etl_aborted_message() ELSE r.error END AS error,
       r.watermark
FROM feed_runs r
CROSS JOIN LATERAL (
    SELECT r.status = 'running' AND NOT etl_load_running(r.city_id, r.source) AS stopped
) s;
