-- 0018 A rollup of incidents per hexagon of the dashboard's grid.
--
-- The density and Gi* layers of the Live map, and the Departments page's
-- map, count the selected incidents per 250 m hexagon (incidents.hex250,
-- migration 0011).  Over a whole city's history that is a pass over all of
-- them (580,000 for Alba Iulia in the 1,000,000 demo).  This table holds
-- the same counts already summed per city, hexagon, category, district,
-- department and status: 13,539 rows for those 580,000 incidents.  Every
-- filter of the dashboard but the dates is a key, so sums over it are
-- exact; a selection that no date bound cuts reads it instead of the
-- incidents (sesizari/queries/maps.py).
--
-- Kept fresh like incident_daily and incident_cells (migrations 0015,
-- 0017): statement-level triggers aggregate the transition rows once and
-- upsert the groups in key order; groups left with no incidents are
-- deleted.
CREATE TABLE incident_hexes (
    city_id       integer NOT NULL,
    hex250        bigint NOT NULL,    -- incidents.hex250
    category_id   integer NOT NULL,
    district_id   integer NOT NULL,   -- 0: outside every district (ids are positive)
    department_id integer NOT NULL,
    status        text NOT NULL,
    n             integer NOT NULL,   -- incidents
    CONSTRAINT incident_hexes_key
        PRIMARY KEY (city_id, hex250, category_id, district_id, department_id, status)
        INCLUDE (n)
);

-- The statement that adds the rows of `p_source` (a query giving incidents
-- and a `sign` column), in key order, and returns the row ids of the groups
-- it left empty.  One definition for the triggers and for the rebuild.
CREATE FUNCTION incident_hexes_upsert(p_source text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT format($q$
        WITH delta AS (
            SELECT r.city_id, r.hex250, r.category_id, COALESCE(r.district_id, 0) AS district_id,
                   r.department_id, r.status, sum(r.sign) AS n
            FROM (%s) r
            GROUP BY 1, 2, 3, 4, 5, 6
        ),
        up AS (
            INSERT INTO public.incident_hexes AS d
                (city_id, hex250, category_id, district_id, department_id, status, n)
            SELECT city_id, hex250, category_id, district_id, department_id, status, n
            FROM delta
            WHERE n <> 0
            ORDER BY city_id, hex250, category_id, district_id, department_id, status
            ON CONFLICT ON CONSTRAINT incident_hexes_key DO UPDATE SET n = d.n + excluded.n
            RETURNING d.ctid, d.n
        )
        SELECT array_agg(ctid) FILTER (WHERE n = 0) FROM up
    $q$, p_source)
    $$;

-- The names sort after incident_daily_*: every writer takes the rows of the
-- three rollups in the same order (cells, daily, hexes).  The trigger
-- functions are those of incident_cells (migration 0017).
CREATE TRIGGER incident_hexes_insert AFTER INSERT ON incidents
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION incident_rollup_on_change('incident_hexes_upsert', 'incident_hexes');
CREATE TRIGGER incident_hexes_update AFTER UPDATE ON incidents
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION incident_rollup_on_change('incident_hexes_upsert', 'incident_hexes');
CREATE TRIGGER incident_hexes_delete AFTER DELETE ON incidents
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION incident_rollup_on_change('incident_hexes_upsert', 'incident_hexes');
CREATE TRIGGER incident_hexes_truncate AFTER TRUNCATE ON incidents
    FOR EACH STATEMENT EXECUTE FUNCTION incident_rollup_on_truncate('incident_hexes');

-- Rebuild a city's hexagon counts from its incidents.
CREATE FUNCTION refresh_incident_hexes(p_city integer) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    DELETE FROM public.incident_hexes WHERE city_id = p_city;
    EXECUTE public.incident_hexes_upsert(format(
        'SELECT i.*, 1 AS sign FROM public.incidents i WHERE i.city_id = %s', p_city));
END
$$;

DO $$ BEGIN PERFORM refresh_incident_hexes(city_id) FROM cities; END $$;
ANALYZE incident_hexes;
