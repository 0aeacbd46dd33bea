-- 0014 hex_cell_of() (0011) names the functions it calls with their schemas.
-- A PL/pgSQL body is resolved when it runs, under the caller's search_path,
-- and pg_restore loads table data with an empty search_path: the generated
-- column incidents.hex250 then failed to find hex_cell() and ST_X(), and a
-- pg_dump backup could not be restored (COPY incidents failed).  The SQL
-- functions of 0011 keep no such names: their bodies are parsed when they are
-- created.  Qualified names cost nothing per call (a SET search_path clause on
-- the function would cost 1 us per row written).
DO $migration$
DECLARE
    postgis_schema text := (SELECT n.nspname FROM pg_extension e
                            JOIN pg_namespace n ON n.oid = e.extnamespace
                            WHERE e.extname = 'postgis');
BEGIN
    EXECUTE format(
        $f$CREATE OR REPLACE FUNCTION hex_cell_of(point3844 geometry, size double precision)
           RETURNS bigint LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
           AS $body$ BEGIN RETURN %1$I.hex_cell(%2$I.ST_X(point3844), %2$I.ST_Y(point3844), size); END $body$$f$,
        (SELECT n.nspname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE p.proname = 'hex_cell'),
        postgis_schema);
END
$migration$;
