-- 0016 Incidents in the order of the clusters layer's grid.
--
-- Above a few tens of thousands of incidents the Live map's clusters are
-- the grid approximation of DBSCAN (sesizari/queries/maps.py): incidents are
-- counted per square cell of side eps / sqrt(2), category and district.  At
-- the page's default distance, eps = 60 m, the cell side is 42.426... m
-- (60 / sqrt(2), written below to the last digit of a float8), and this
-- index holds every incident under its cell of that grid, row (y) first,
-- then column (x), category and district.  The count then reads the index
-- in group order: PostgreSQL adds each incident to the group it is reading
-- instead of hashing 580,000 incidents into 120,000 groups (whole city at
-- 1,000,000 demo incidents: the count 340 -> 200 ms).  Other distances
-- compute the cell of each incident at query time.
--
-- The covered columns are what the dashboard's filters and the layer read,
-- so the scan never visits the table.  The expressions must stay exactly as
-- the query writes them (GRID_CELL_M in maps.py): a test checks that the
-- query uses this index.  Building it blocks writes to incidents for about
-- 2 s per million incidents (measured on 2 vCPU).
CREATE INDEX incidents_cluster_cell_idx ON incidents (
    city_id,
    (CAST(floor(y3844 / 42.426406871192846) AS integer)),
    (CAST(floor(x3844 / 42.426406871192846) AS integer)),
    category_id,
    district_id
) INCLUDE (department_id, status, created_at, x3844, y3844);
