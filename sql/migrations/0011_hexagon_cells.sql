-- 0011 Hexagon cells: the cell of every incident in the dashboard's hexagon
-- grid (250 m edges, the size of every hexagon and hot-spot map the pages
-- draw), stored when the incident is written.  The density and Gi* layers
-- then count incidents per stored key instead of placing 580,000 points in
-- hexagons at every page view (about 1 us of arithmetic per incident).
--
-- hex_cell() is the one definition of "which cell": ST_HexagonGrid tiles
-- the plane from the origin of EPSG:3844 with flat-topped hexagons, so cell
-- (i, j) is centred at x = 1.5 s i, y = sqrt(3) s (j + (i mod 2) / 2) for an
-- edge length s.  A regular hexagon tiling is the Voronoi diagram of its
-- centres, so a point's cell is the nearest centre, which lies in one of the
-- two columns around x / 1.5 s.  A point on a shared edge goes to the smaller
-- i, then the smaller j, so counts add up to the number of incidents.  The
-- queries use the same function for any other size (sesizari/queries/maps.py);
-- written as SQL expressions, PostgreSQL inlines it into those queries.

-- (i, j) as one bigint: i in the high 32 bits, j in the low 32 (two's
-- complement), so one key groups and joins.
CREATE FUNCTION hex_key(i integer, j double precision) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN (CAST(i AS bigint) << 32) | (CAST(j AS bigint) & 4294967295);

-- The row j of the centre nearest to y in column i (h: the cell height).
CREATE FUNCTION hex_row(y double precision, h double precision, i integer)
    RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN ceil((y - 0.5 * h * CAST(i & 1 AS double precision)) / h - 0.5);

-- Squared distance from (x, y) to the nearest centre of column i.
CREATE FUNCTION hex_d2(x double precision, y double precision, w double precision,
                       h double precision, i integer) RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN (x - w * i) ^ 2
           + (y - h * hex_row(y, h, i) - 0.5 * h * CAST(i & 1 AS double precision)) ^ 2;

CREATE FUNCTION hex_cell(x double precision, y double precision, size double precision)
    RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE
        WHEN hex_d2(x, y, 1.5 * size, sqrt(3.0) * size, CAST(floor(x / (1.5 * size)) AS integer))
             <= hex_d2(x, y, 1.5 * size, sqrt(3.0) * size,
                       CAST(floor(x / (1.5 * size)) AS integer) + 1)
        THEN hex_key(CAST(floor(x / (1.5 * size)) AS integer),
                     hex_row(y, sqrt(3.0) * size, CAST(floor(x / (1.5 * size)) AS integer)))
        ELSE hex_key(CAST(floor(x / (1.5 * size)) AS integer) + 1,
                     hex_row(y, sqrt(3.0) * size, CAST(floor(x / (1.5 * size)) AS integer) + 1))
    END;

-- The cell of a Stereo70 point.  PL/pgSQL, for the generated column below:
-- there the point is an expression (a reprojection), and PostgreSQL inlines a
-- SQL function only when its arguments are cheap, so hex_cell() would run as
-- a function call per row (16 us); this wrapper costs 1.3 us.
CREATE FUNCTION hex_cell_of(point3844 geometry, size double precision) RETURNS bigint
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$ BEGIN RETURN hex_cell(ST_X(point3844), ST_Y(point3844), size); END $$;

-- Generated, so it can never disagree with geom.  The size is the constant
-- DASHBOARD_HEX_M of sesizari/queries/maps.py.
ALTER TABLE incidents
    ADD COLUMN hex250 bigint
        GENERATED ALWAYS AS (hex_cell_of(ST_Transform(geom, 3844), 250.0)) STORED;

-- The covering index of 0009, with the cell, so the layers stay index-only.
DROP INDEX incidents_analytics_idx;
CREATE INDEX incidents_analytics_idx ON incidents (city_id, created_at)
    INCLUDE (incident_id, category_id, department_id, district_id, status,
             acknowledged_at, resolved_at, geom, x3844, y3844, hex250);
