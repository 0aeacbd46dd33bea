-- 0017 A rollup of incidents per cell of the clusters layer's grid.
--
-- The Live map's clusters over a whole city's history (no date filter) are
-- the grid approximation of DBSCAN at the page's default distance, 60 m:
-- counts per square cell of side 60 / sqrt(2) m (42.426... m, the grid of
-- migration 0016), category and district.  Counted from the incidents that
-- is one pass over all of them (580,000 for Alba Iulia in the 1,000,000
-- demo: about 200 ms of the query's 350).  This table holds the same counts
-- already summed, per city, cell, category, district, department and status
-- (171,017 rows for those 580,000 incidents); every filter of the dashboard
-- but the dates is a key, so sums over it are exact.  Read in cell order
-- from its key, the whole-city clusters take 220 ms instead of 350 ms.
-- A selection with dates counts its incidents, hashed into cells: the index
-- of migration 0016, which held every incident in cell order for that
-- count, is no longer read and is dropped (74 MB at 1,000,000 incidents,
-- and one index less to update on every insert).
--
-- Kept fresh in the statement that changes incidents, like incident_daily
-- (migration 0015): statement-level triggers aggregate the transition rows
-- once and upsert the groups in key order; groups left with no incidents
-- are deleted.  sx and sy are sums of the incidents' EPSG:3844 coordinates,
-- for each cluster's mean position.  The cell expressions must stay exactly
-- as GRID_CELL_M writes them in sesizari/queries/maps.py: a test compares
-- this table with a recount of the incidents.
CREATE TABLE incident_cells (
    city_id       integer NOT NULL,
    cy            integer NOT NULL,   -- floor(y3844 / 42.426406871192846)
    cx            integer NOT NULL,   -- floor(x3844 / 42.426406871192846)
    category_id   integer NOT NULL,
    district_id   integer NOT NULL,   -- 0: outside every district (ids are positive)
    department_id integer NOT NULL,
    status        text NOT NULL,
    n             integer NOT NULL,   -- incidents
    sx            float8 NOT NULL,    -- sum of their x3844 (metres)
    sy            float8 NOT NULL,    -- sum of their y3844 (metres)
    -- The counts ride in the key's index: the clusters read it alone, in
    -- cell order, without visiting the table.
    CONSTRAINT incident_cells_key
        PRIMARY KEY (city_id, cy, cx, category_id, district_id, department_id, status)
        INCLUDE (n, sx, sy)
);

-- The statement that adds the rows of `p_source` (a query giving incidents
-- and a `sign` column) to the cells, in key order, and returns the row ids
-- of the groups it left empty.  One definition for the triggers and for
-- the rebuild below.
CREATE FUNCTION incident_cells_upsert(p_source text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT format($q$
        WITH delta AS (
            SELECT r.city_id,
                   CAST(floor(r.y3844 / CAST(42.426406871192846 AS float8)) AS integer) AS cy,
                   CAST(floor(r.x3844 / CAST(42.426406871192846 AS float8)) AS integer) AS cx,
                   r.category_id, COALESCE(r.district_id, 0) AS district_id, r.department_id,
                   r.status,
                   sum(r.sign) AS n, sum(r.sign * r.x3844) AS sx, sum(r.sign * r.y3844) AS sy
            FROM (%s) r
            GROUP BY 1, 2, 3, 4, 5, 6, 7
        ),
        up AS (
            INSERT INTO public.incident_cells AS d
                (city_id, cy, cx, category_id, district_id, department_id, status, n, sx, sy)
            SELECT city_id, cy, cx, category_id, district_id, department_id, status, n, sx, sy
            FROM delta
            WHERE n <> 0 OR sx <> 0 OR sy <> 0
            ORDER BY city_id, cy, cx, category_id, district_id, department_id, status
            ON CONFLICT ON CONSTRAINT incident_cells_key DO UPDATE SET
                n = d.n + excluded.n,
                sx = d.sx + excluded.sx,
                sy = d.sy + excluded.sy
            RETURNING d.ctid, d.n
        )
        SELECT array_agg(ctid) FILTER (WHERE n = 0) FROM up
    $q$, p_source)
    $$;

-- The trigger function of a rollup without dates (this one and
-- incident_hexes, migration 0018), named in the trigger's arguments: the
-- function that writes the upsert statement (TG_ARGV[0]) and the table
-- (TG_ARGV[1]).  Each statement's new rows count once, its old rows minus
-- once.  The empty groups go in a second statement (one statement cannot
-- change a row twice).
CREATE FUNCTION incident_rollup_on_change() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    upsert text;
    empty tid[];
BEGIN
    EXECUTE format('SELECT public.%I($1)', TG_ARGV[0])
        USING CASE TG_OP
            WHEN 'INSERT' THEN 'SELECT n.*, 1 AS sign FROM new_rows n'
            WHEN 'DELETE' THEN 'SELECT o.*, -1 AS sign FROM old_rows o'
            ELSE 'SELECT n.*, 1 AS sign FROM new_rows n UNION ALL SELECT o.*, -1 FROM old_rows o'
            END
        INTO upsert;
    EXECUTE upsert INTO empty;
    IF empty IS NOT NULL THEN
        EXECUTE format('DELETE FROM public.%I WHERE ctid = ANY($1)', TG_ARGV[1]) USING empty;
    END IF;
    RETURN NULL;
END
$$;

-- TRUNCATE removes every incident (of every city): the rollup TG_ARGV[0]
-- follows.
CREATE FUNCTION incident_rollup_on_truncate() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    EXECUTE format('TRUNCATE public.%I', TG_ARGV[0]);
    RETURN NULL;
END
$$;

-- The trigger names sort before incident_daily_*: every writer updates the
-- cells first, then the daily rollup, so two writers take the rows they
-- share in the same order.
CREATE TRIGGER incident_cells_insert AFTER INSERT ON incidents
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION incident_rollup_on_change('incident_cells_upsert', 'incident_cells');
CREATE TRIGGER incident_cells_update AFTER UPDATE ON incidents
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION incident_rollup_on_change('incident_cells_upsert', 'incident_cells');
CREATE TRIGGER incident_cells_delete AFTER DELETE ON incidents
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION incident_rollup_on_change('incident_cells_upsert', 'incident_cells');
CREATE TRIGGER incident_cells_truncate AFTER TRUNCATE ON incidents
    FOR EACH STATEMENT EXECUTE FUNCTION incident_rollup_on_truncate('incident_cells');

-- Rebuild a city's cells from its incidents (after a load that bypassed the
-- triggers, for example).
CREATE FUNCTION refresh_incident_cells(p_city integer) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    DELETE FROM public.incident_cells WHERE city_id = p_city;
    EXECUTE public.incident_cells_upsert(format(
        'SELECT i.*, 1 AS sign FROM public.incidents i WHERE i.city_id = %s', p_city));
END
$$;

DO $$ BEGIN PERFORM refresh_incident_cells(city_id) FROM cities; END $$;
ANALYZE incident_cells;

DROP INDEX incidents_cluster_cell_idx;
