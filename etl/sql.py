"""The SQL of the load path, one statement per step, each over a whole batch.

Values always travel as bound parameters.  The only text assembled here
comes from fixed fragments of this module: the geometry expression, picked
by the kind of mapping (lon/lat columns, a WKT column, or the file's own
geometry), the hint queries built the same way, and the per-group tests of
``UPDATE_CHANGED`` built from ``SOURCE_GROUPS``.
"""

from __future__ import annotations

from etl.mapping import Mapping

#: The checked rows of a batch: filled by the helper session, copied over to
#: the main session, which inserts from them (both sessions have it).
WORK_TABLES = (
    """
    CREATE TEMP TABLE IF NOT EXISTS etl_work (
        source_row integer PRIMARY KEY,
        ext text, reason text, field text, length integer,
        incident_id bigint, created_at timestamptz, category_id integer, status text,
        resolved_at timestamptz, closed_at timestamptz, resolution_text text,
        address text, description text, geom geometry(Point, 4326),
        department_id integer, assignee_user_id integer, rule_id integer,
        district_id integer, watermark timestamptz,
        registry_number text, source_department_id integer, description_public boolean,
        source_updated_at timestamptz, source_hashes integer[]
    ) ON COMMIT DELETE ROWS
    """,
)

#: What only the helper session, which stages and checks, needs.
HELPER_TABLES = (
    """
    CREATE TEMP TABLE IF NOT EXISTS etl_stage (
        source_row integer PRIMARY KEY,
        ext text, created text, closed text, category text, status text,
        address text, description text, resolution text,
        lon text, lat text, wkt text, agency text, regno text, updated text, wkb bytea,
        problem text
    ) ON COMMIT DELETE ROWS
    """,
    # External ids met so far in this run: a repeat in a later batch is a duplicate too.
    "CREATE TEMP TABLE IF NOT EXISTS etl_seen (ext text PRIMARY KEY)",
    "TRUNCATE etl_seen",
)

#: The registry numbers a dry run has accepted so far (main session, kept
#: across its rolled-back batches; always empty in a load, whose batches
#: commit): a number repeated in a later batch is taken, as in a load.
DRY_NUMBERS_TABLES = (
    "CREATE TEMP TABLE IF NOT EXISTS etl_dry_numbers (registry_number text PRIMARY KEY)",
    "TRUNCATE etl_dry_numbers",
)
#: The numbers of the batch's new rows (read before a dry run's rollback).
NEW_NUMBERS = (
    "SELECT registry_number FROM etl_work WHERE reason IS NULL AND incident_id IS NULL"
)
REMEMBER_NUMBERS = (
    "INSERT INTO etl_dry_numbers SELECT unnest(CAST(:numbers AS text[])) ON CONFLICT DO NOTHING"
)

COPY_STAGE = (
    "COPY etl_stage (source_row, ext, created, closed, category, status, address,"
    " description, resolution, lon, lat, wkt, agency, regno, updated, wkb, problem)"
    " FROM STDIN"
)

#: The prepared batch, from the helper session to the main one (same TEMP
#: table definition on both, so the binary rows fit column for column).
COPY_WORK_OUT = "COPY etl_work TO STDOUT (FORMAT binary)"
COPY_WORK_IN = "COPY etl_work FROM STDIN (FORMAT binary)"

COPY_REJECTS = (
    "COPY feed_rejects (city_id, run_id, source_row, reason, message, message_ro, raw)"
    " FROM STDIN"
)

_NUMBER = r"'^[-+]?([0-9]{1,15}([.][0-9]*)?|[.][0-9]+)$'"
_LON = "replace(btrim(s.lon), ',', '.')"
_LAT = "replace(btrim(s.lat), ',', '.')"

#: kind of mapping -> (has a geometry at all, the incident's point or NULL).
#: ``etl_point`` reprojects, takes a point on lines and polygons and checks the
#: lon/lat ranges; for lon/lat columns already in EPSG:4326 the same checks
#: are written inline ("lonlat4326"), which spares a PL/pgSQL call per row.
#: Nested CASEs fix the order: a value is cast only once it looks like a number.
_GEOMETRY: dict[str, tuple[str, str]] = {
    "lonlat": (
        "(NULLIF(btrim(s.lon), '') IS NOT NULL AND NULLIF(btrim(s.lat), '') IS NOT NULL)",
        f"etl_point(CASE WHEN {_LON} ~ {_NUMBER} AND {_LAT} ~ {_NUMBER} THEN"
        f" ST_SetSRID(ST_MakePoint({_LON}::float8, {_LAT}::float8), :srid) END)",
    ),
    "lonlat4326": (
        "(NULLIF(btrim(s.lon), '') IS NOT NULL AND NULLIF(btrim(s.lat), '') IS NOT NULL)",
        f"CASE WHEN {_LON} ~ {_NUMBER} AND {_LAT} ~ {_NUMBER} THEN"
        f" CASE WHEN {_LON}::float8 BETWEEN -180 AND 180 AND {_LAT}::float8 BETWEEN -90 AND 90"
        f" THEN ST_SetSRID(ST_MakePoint({_LON}::float8, {_LAT}::float8), 4326) END END",
    ),
    "wkt": ("(NULLIF(btrim(s.wkt), '') IS NOT NULL)", "etl_point(etl_try_geometry(s.wkt, :srid))"),
    "file": ("(s.wkb IS NOT NULL)", "etl_point(ST_SetSRID(ST_GeomFromWKB(s.wkb), :srid))"),
}


#: kind of mapping -> the rows of :n (rejected as outside the city) whose
#: point falls inside once its two coordinates are swapped (their values
#: passed the checks that come before the boundary's, so they cast).
_SWAPPED = """
SELECT r.n
FROM unnest(CAST(:n AS integer[]), {arrays}) AS r(n, {names})
JOIN cities city ON city.city_id = :c
WHERE ST_Covers(city.boundary, etl_point(ST_FlipCoordinates({geom})))
"""
SWAPPED_INSIDE: dict[str, str] = {
    kind: _SWAPPED.format(arrays=arrays, names=names, geom=geom)
    for kind, arrays, names, geom in (
        ("lonlat", "CAST(:x AS text[]), CAST(:y AS text[])", "x, y",
         "ST_SetSRID(ST_MakePoint(replace(btrim(r.x), ',', '.')::float8,"
         " replace(btrim(r.y), ',', '.')::float8), :srid)"),
        ("wkt", "CAST(:wkt AS text[])", "wkt", "etl_try_geometry(r.wkt, :srid)"),
        ("file", "CAST(:wkb AS bytea[])", "wkb", "ST_SetSRID(ST_GeomFromWKB(r.wkb), :srid)"),
    )
}
SWAPPED_INSIDE["lonlat4326"] = SWAPPED_INSIDE["lonlat"]

#: kind of mapping -> the rows of :n (rejected as bad coordinates, under
#: EPSG:4326) whose coordinates, read as Stereo 70 metres (EPSG:3844, the
#: national grid of Romanian exports), fall inside the city, as given
#: (``as_is``) or swapped.  Values that are not numbers are skipped.
_STEREO70 = """
SELECT r.n, ST_Covers(city.boundary, etl_point(r.g)) AS as_is
FROM (SELECT u.n, {geom} AS g
      FROM unnest(CAST(:n AS integer[]), {arrays}) AS u(n, {names})
      {where}
      OFFSET 0) r
JOIN cities city ON city.city_id = :c
WHERE ST_Covers(city.boundary, etl_point(r.g))
   OR ST_Covers(city.boundary, etl_point(ST_FlipCoordinates(r.g)))
"""
_X = "replace(btrim(u.x), ',', '.')"
_Y = "replace(btrim(u.y), ',', '.')"
STEREO70_INSIDE: dict[str, str] = {
    kind: _STEREO70.format(geom=geom, arrays=arrays, names=names, where=where)
    for kind, arrays, names, where, geom in (
        ("lonlat4326", "CAST(:x AS text[]), CAST(:y AS text[])", "x, y",
         f"WHERE {_X} ~ {_NUMBER} AND {_Y} ~ {_NUMBER}",
         f"ST_SetSRID(ST_MakePoint({_X}::float8, {_Y}::float8), 3844)"),
        ("wkt", "CAST(:wkt AS text[])", "wkt", "", "etl_try_geometry(u.wkt, 3844)"),
        ("file", "CAST(:wkb AS bytea[])", "wkb", "WHERE u.wkb IS NOT NULL",
         "ST_SetSRID(ST_GeomFromWKB(u.wkb), 3844)"),
    )
}


#: The rows of :n (rejected as bad dates) whose value :v reads as a date in
#: the format :f, the mapping's with day and month swapped.
READS_WITH = """
SELECT u.n
FROM unnest(CAST(:n AS integer[]), CAST(:v AS text[]), CAST(:f AS text[])) AS u(n, v, f)
CROSS JOIN LATERAL etl_local_time(u.v, u.f, :tz) t
WHERE t.ts IS NOT NULL
"""


def geometry_kind(mapping: Mapping) -> str:
    if mapping.lon:
        return "lonlat4326" if mapping.crs == 4326 else "lonlat"
    if mapping.wkt:
        return "wkt"
    return "file"


#: A date in ISO 8601 form, as a reader writes the values a file types as
#: dates (Source.typed_dates): in such a column these are read as ISO, other
#: values with the mapping's pattern.  A text cell of that column written
#: the ISO way is read as ISO too; only a pattern putting the day before the
#: month after a four-digit year (YYYY-DD-MM, not a layout in use) would
#: have read it otherwise.
ISO_DATE_RE = (r"^\s*[0-9]{4}-[0-9]{2}-[0-9]{2}"
               r"([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?"
               r"(\s*([Zz]|[+-][0-9]{2}(:?[0-9]{2})?))?)?\s*$")

_WORK_INSERT = """
WITH v AS MATERIALIZED (
    SELECT s.source_row, s.problem,
           NULLIF(btrim(s.ext), '') AS ext,
           NULLIF(btrim(s.created), '') AS created_raw,
           ct.ts AS created_at, ct.problem AS created_problem,
           cl.ts AS closed_src, cl.problem AS closed_problem,
           up.ts AS updated_src, up.problem AS updated_problem,
           COALESCE(c1.category_id, c2.category_id) AS category_id,
           s.status AS status_raw,
           CASE WHEN :status_from_closed
                THEN CASE WHEN cl.ts IS NOT NULL THEN 'closed' ELSE :status_default END
                ELSE COALESCE(CAST(:statmap AS jsonb) ->> btrim(s.status),
                              CAST(:statmap_folded AS jsonb) ->> {folded_status},
                              :status_default)
           END AS status,
           NULLIF(btrim(s.address), '') AS address,
           COALESCE(NULLIF(btrim(s.description), ''), NULLIF(btrim(s.category), ''),
                    'Sesizare ' || :src) AS description,
           NULLIF(btrim(s.resolution), '') AS resolution,
           NULLIF(btrim(s.regno), '') AS registry_number,
           dm.department_id AS source_department_id,
           {has_geom} AS has_geom,
           {point} AS geom,
           (row_number() OVER (PARTITION BY NULLIF(btrim(s.ext), '') ORDER BY s.source_row) > 1
            OR EXISTS (SELECT 1 FROM etl_seen x WHERE x.ext = btrim(s.ext))) AS dup
    FROM etl_stage s
    CROSS JOIN LATERAL etl_local_time(s.created, CASE WHEN :iso_created
        AND s.created ~ :iso_re THEN 'iso' ELSE :fmt_created END, :tz) ct
    CROSS JOIN LATERAL etl_local_time(s.closed, CASE WHEN :iso_closed
        AND s.closed ~ :iso_re THEN 'iso' ELSE :fmt_closed END, :tz) cl
    CROSS JOIN LATERAL etl_local_time(s.updated, CASE WHEN :iso_updated
        AND s.updated ~ :iso_re THEN 'iso' ELSE :fmt_updated END, :tz) up
    -- A map's key is the value itself, else the value folded (case, spaces:
    -- etl.mapping.fold); else the value is taken as a code.
    LEFT JOIN categories c1 ON c1.city_id = :c AND c1.active
        AND c1.code = COALESCE(CAST(:catmap AS jsonb) ->> btrim(s.category),
                               CAST(:catmap_folded AS jsonb) ->> {folded_category},
                               lower(btrim(s.category)))
    LEFT JOIN categories c2 ON c2.city_id = :c AND c2.active AND c2.code = :fallback
    -- Agencies map to departments like categories to categories (codes map
    -- to themselves); an empty or unmapped agency leaves routing to decide.
    LEFT JOIN departments dm ON dm.city_id = :c AND dm.active
        AND dm.code = COALESCE(CAST(:depmap AS jsonb) ->> btrim(s.agency),
                               CAST(:depmap_folded AS jsonb) ->> {folded_agency},
                               lower(btrim(s.agency)))
),
-- This batch's ids join the run's: a repeat in a later batch is a duplicate.
-- (The EXISTS above reads the table as it was before this statement.)
seen AS (
    INSERT INTO etl_seen (ext) SELECT v.ext FROM v WHERE v.ext IS NOT NULL
    ON CONFLICT DO NOTHING
),
-- Materialized: the reason (with its ST_Covers) is computed once per row,
-- not again in every join condition and lateral filter that reads it.
q AS MATERIALIZED (
    SELECT v.*,
        CASE
            WHEN v.problem LIKE 'encoding:%' THEN 'bad_encoding'  -- messages.bad_bytes
            WHEN v.problem IS NOT NULL THEN 'malformed_row'
            WHEN v.ext IS NULL THEN 'missing_external_id'
            -- Longer ids could not be indexed (the upsert key): refuse them here.
            WHEN length(v.ext) > 200 THEN 'external_id_too_long'
            WHEN v.dup THEN 'duplicate_external_id'
            WHEN v.created_raw IS NULL THEN 'missing_date'
            WHEN v.created_problem IS NOT NULL THEN v.created_problem
            WHEN v.closed_problem IS NOT NULL THEN v.closed_problem
            WHEN v.updated_problem IS NOT NULL THEN v.updated_problem
            WHEN v.closed_src < v.created_at THEN 'closed_before_created'
            -- A closing time is never made up: it would be a resolution
            -- time of zero in every median and share within target.
            WHEN v.closed_src IS NULL AND v.status IN ('resolved', 'closed')
                THEN 'closed_without_date'
            -- A day of leeway for clocks; later is a wrong date (day and month
            -- swapped...), which would also hold the feed's watermark.
            WHEN v.created_at > now() + interval '1 day'
              OR v.closed_src > now() + interval '1 day'
              OR v.updated_src > now() + interval '1 day' THEN 'date_in_future'
            WHEN NOT v.has_geom THEN 'missing_coordinates'
            WHEN v.geom IS NULL THEN 'bad_coordinates'
            WHEN NOT ST_Covers(city.boundary, v.geom) THEN 'outside_boundary'
            WHEN v.category_id IS NULL THEN 'unknown_category'
            WHEN length(v.description) > 5000 THEN 'description_too_long'
            WHEN length(v.address) > 500 THEN 'address_too_long'
            WHEN length(v.resolution) > 5000 THEN 'resolution_too_long'
        END AS reason,
        -- The date column a date reason is about (its message names it).
        CASE WHEN v.created_problem IS NOT NULL THEN 'created'
             WHEN v.closed_problem IS NOT NULL THEN 'closed'
             WHEN v.updated_problem IS NOT NULL THEN 'updated'
             WHEN v.created_at > now() + interval '1 day' THEN 'created'
             WHEN v.closed_src > now() + interval '1 day' THEN 'closed'
             WHEN v.updated_src > now() + interval '1 day' THEN 'updated'
             ELSE 'created' END AS field
    FROM v JOIN cities city ON city.city_id = :c
)
INSERT INTO etl_work (source_row, ext, reason, field, length, incident_id, created_at,
    category_id, status, resolved_at, closed_at, resolution_text, address, description, geom,
    department_id, assignee_user_id, rule_id, district_id, watermark, registry_number,
    source_department_id, description_public, source_updated_at, source_hashes)
SELECT x.*,
    -- What the source says, per group of fields (SOURCE_GROUPS, migration
    -- 0025).  Times as epoch seconds: their text form would follow the
    -- session's TimeZone and DateStyle, which a server may set otherwise.
    CASE WHEN x.reason IS NULL THEN ARRAY[
        hashtext(ROW(x.status, extract(epoch FROM x.resolved_at),
                     extract(epoch FROM x.closed_at), x.resolution_text)::text),
        hashtext(x.category_id::text), hashtext(x.source_department_id::text),
        hashtext(ST_AsEWKB(x.geom)::text), hashtext(x.address), hashtext(x.description),
        hashtext(extract(epoch FROM x.created_at)::text)] END
FROM (
SELECT q.source_row, q.ext, q.reason, q.field,
    CASE q.reason WHEN 'description_too_long' THEN length(q.description)
                  WHEN 'external_id_too_long' THEN length(q.ext)
                  WHEN 'address_too_long' THEN length(q.address)
                  WHEN 'resolution_too_long' THEN length(q.resolution) END AS length,
    {incident_id} AS incident_id, q.created_at, q.category_id, q.status,
    CASE WHEN q.status IN ('resolved', 'closed') THEN q.closed_src END AS resolved_at,
    CASE WHEN q.status = 'closed' THEN q.closed_src END AS closed_at,
    CASE WHEN q.status IN ('resolved', 'closed')
         THEN COALESCE(q.resolution, :resolution_default) END AS resolution_text,
    q.address, q.description, q.geom,
    COALESCE(q.source_department_id, rr.department_id, cat.default_department_id)
        AS department_id,
    -- A routing rule's assignee and id hold only if the source kept its department.
    CASE WHEN q.source_department_id IS NULL
              OR q.source_department_id = COALESCE(rr.department_id, cat.default_department_id)
         THEN rr.assignee_user_id END AS assignee_user_id,
    CASE WHEN q.source_department_id IS NULL
              OR q.source_department_id = COALESCE(rr.department_id, cat.default_department_id)
         THEN rr.rule_id END AS rule_id,
    -- The watermark never passes the present: one row dated in the future
    -- would otherwise make every later incremental run start after it.
    dd.district_id, LEAST(GREATEST(q.created_at, q.closed_src), now()) AS watermark,
    q.registry_number, q.source_department_id,
    -- Published unless the mapping says its descriptions may name people, or
    -- this one looks like it holds an e-mail, phone, CNP or plate (0027).
    CASE WHEN q.reason IS NULL
         THEN :publish_descriptions AND NOT looks_personal(q.description) END
        AS description_public,
    -- When the source last changed the row (0028); never past the present
    -- (the day of leeway above), or later versions would look older.
    LEAST(q.updated_src, now()) AS source_updated_at
FROM q
{existing}
LEFT JOIN categories cat ON q.reason IS NULL AND cat.city_id = :c
    AND cat.category_id = q.category_id
LEFT JOIN LATERAL (
    SELECT r.department_id, r.assignee_user_id, r.rule_id FROM routing_rules r
    WHERE q.reason IS NULL AND r.city_id = :c AND r.category_id = q.category_id AND r.active
      AND (r.area IS NULL OR ST_Covers(r.area, q.geom))
    ORDER BY (r.area IS NULL), ST_Area(r.area::geography) NULLS LAST, r.rule_id
    LIMIT 1
) rr ON true
LEFT JOIN LATERAL (
    SELECT d.district_id FROM districts d
    WHERE q.reason IS NULL AND d.city_id = :c AND ST_Covers(d.geom, q.geom)
    ORDER BY d.district_id LIMIT 1
) dd ON true
) x
"""


_EXISTING = """LEFT JOIN incidents i ON q.reason IS NULL AND i.city_id = :c AND i.source = :src
    AND i.external_id = q.ext"""


#: A source value folded as :func:`etl.mapping.fold` folds a map's keys: lower
#: case, runs of white space as one space.
FOLDED = "lower(regexp_replace(btrim({0}), '\\s+', ' ', 'g'))"


def work_insert(mapping: Mapping, match_existing: bool = True) -> str:
    """Parse, check, classify and route the staged batch into ``etl_work``.

    ``match_existing``: look up the incidents already loaded from the source,
    to update them.  Off for a bulk load: its source has none, and the load's
    transaction holds the incidents table locked.
    """
    has_geom, point = _GEOMETRY[geometry_kind(mapping)]
    # Every fragment comes from the fixed texts above, never from input.
    return _WORK_INSERT.format(
        has_geom=has_geom,
        point=point,
        existing=_EXISTING if match_existing else "",
        folded_category=FOLDED.format("s.category"),
        folded_agency=FOLDED.format("s.agency"),
        folded_status=FOLDED.format("s.status"),
        incident_id="i.incident_id" if match_existing else "CAST(NULL AS bigint)",
    )


SELECT_REJECTS = (
    "SELECT source_row, reason, field, length, status FROM etl_work WHERE reason IS NOT NULL"
    " ORDER BY source_row"
)

#: New rows: allocate registry numbers set-wise (one counter update per local
#: year, in this transaction: sequential, no gaps), insert, and log 'created'.
#: The incident ids are drawn here from the column's own identity sequence
#: (``:id_seq``, its oid), so the events are built from the same rows as the
#: incidents, without reading the inserted rows back or joining the work table
#: again.  Foreign keys are checked at the end of the statement, when both
#: inserts are done.
_INSERT_NEW = """
WITH fresh AS MATERIALIZED (
    SELECT w.*, {fresh}
        nextval(CAST(CAST(:id_seq AS oid) AS regclass)) AS new_id
    FROM etl_work w
    {fresh_from}
    WHERE w.reason IS NULL AND w.incident_id IS NULL
),
{counters},
ins AS (
    INSERT INTO incidents (city_id, incident_id, registry_number, category_id, department_id,
        assignee_user_id, district_id, status, channel, geom, address, description,
        created_at, resolved_at, closed_at, updated_at, resolution_text, source, external_id,
        description_public, source_updated_at, source_hashes)
    SELECT :c, f.new_id, {number},
        f.category_id, f.department_id, f.assignee_user_id, f.district_id, f.status, 'feed',
        f.geom, f.address, f.description, f.created_at, f.resolved_at, f.closed_at,
        GREATEST(f.created_at, f.resolved_at, f.closed_at), f.resolution_text, :src, f.ext,
        f.description_public, f.source_updated_at, f.source_hashes
    FROM fresh f
    {number_from}
)
INSERT INTO incident_events (city_id, incident_id, kind, to_status, actor_label, channel,
    is_public, data, created_at)
SELECT :c, f.new_id, 'created', f.status, :actor, 'feed', true,
    jsonb_build_object('department', d.code, 'rule_id', f.rule_id, 'source', CAST(:src AS text),
                       'external_id', f.ext, 'run_id', CAST(:run AS bigint)),
    f.created_at
FROM fresh f
JOIN departments d ON d.city_id = :c AND d.department_id = f.department_id
"""

_ALLOCATE = {
    "fresh": "y.year, row_number() OVER (PARTITION BY y.year ORDER BY w.source_row) AS k,",
    "fresh_from": """CROSS JOIN LATERAL (
        SELECT extract(year FROM w.created_at AT TIME ZONE :city_tz)::int AS year
    ) y""",
    "counters": """cnt AS (SELECT year, count(*) AS n FROM fresh GROUP BY year),
alloc AS (
    INSERT INTO registry_counters AS rc (city_id, year, last_value)
    SELECT :c, year, n FROM cnt
    ON CONFLICT (city_id, year) DO UPDATE SET last_value = rc.last_value + EXCLUDED.last_value
    RETURNING year, last_value
)""",
    "number": """:prefix || '-' || lpad(f.year::text, 4, '0') || '-'
            || CASE WHEN length(seq.s) >= 6 THEN seq.s ELSE lpad(seq.s, 6, '0') END""",
    "number_from": """JOIN cnt USING (year)
    JOIN alloc USING (year)
    CROSS JOIN LATERAL (SELECT (alloc.last_value - cnt.n + f.k)::text AS s) seq""",
}

#: The source is the city's registry: its numbers (checked by
#: CHECK_REGISTRY_NUMBERS) are kept, and each year's counter moves up to the
#: highest one, so the numbers the city allocates next never collide with them.
_KEEP = {
    "fresh": "",
    "fresh_from": "",
    "counters": """counters AS (
    INSERT INTO registry_counters AS rc (city_id, year, last_value)
    SELECT :c, CAST(split_part(registry_number, '-', 2) AS integer),
           max(CAST(split_part(registry_number, '-', 3) AS integer))
    FROM fresh GROUP BY 2
    ON CONFLICT (city_id, year) DO UPDATE
        SET last_value = GREATEST(rc.last_value, EXCLUDED.last_value)
)""",
    "number": "f.registry_number",
    "number_from": "",
}

INSERT_NEW = _INSERT_NEW.format(**_ALLOCATE)
INSERT_NEW_KEEP_NUMBERS = _INSERT_NEW.format(**_KEEP)

#: Rows of a registry source whose number cannot be kept, with the reason
#: (main session, which sees every committed incident and this load's own
#: earlier batches).  Numbers look like the city's own (PREFIX-YYYY-NNNNNN, at
#: most nine digits: the counter is an integer), appear once in the run, are
#: not another incident's, and never change on an incident already loaded.
CHECK_REGISTRY_NUMBERS = """
WITH r AS (
    SELECT w.source_row,
        CASE
            WHEN w.registry_number IS NULL THEN 'missing_registry_number'
            WHEN w.registry_number !~ ('^' || :prefix || '-(19|2[0-9])[0-9]{2}-[0-9]{6,9}$')
                THEN 'bad_registry_number'
            WHEN row_number() OVER (PARTITION BY w.registry_number ORDER BY w.source_row) > 1
                THEN 'duplicate_registry_number'
            WHEN w.incident_id IS NOT NULL AND EXISTS (
                SELECT 1 FROM incidents i WHERE i.city_id = :c AND i.incident_id = w.incident_id
                  AND i.registry_number <> w.registry_number)
                THEN 'registry_number_changed'
            WHEN EXISTS (
                SELECT 1 FROM incidents i WHERE i.city_id = :c
                  AND i.registry_number = w.registry_number
                  AND i.incident_id IS DISTINCT FROM w.incident_id)
                OR EXISTS (SELECT 1 FROM etl_dry_numbers d
                           WHERE d.registry_number = w.registry_number)
                THEN 'registry_number_taken'
        END AS reason
    FROM etl_work w
    WHERE w.reason IS NULL
)
UPDATE etl_work w SET reason = r.reason
FROM r WHERE r.reason IS NOT NULL AND w.source_row = r.source_row
"""

#: The groups of fields a feed's row sets, in the order of
#: ``incidents.source_hashes`` (migration 0025).  The status group is applied
#: as one: a status with its own resolution times and text.
SOURCE_GROUPS = ("status", "category", "department", "location", "address", "description",
                 "created_at")

#: Known rows whose source values changed since the last load (or that have
#: no hashes yet): update the fields of the groups the source changed and
#: that differ, re-route on a new category or a new department from the
#: source's agency, log 'updated' with the changed fields, and store the
#: new hashes.  The source is authoritative for what it changes and only
#: for that: staff work on a field the source left as it was stays.
#: Per group, whether the source changed it: its hash moved, or there is none.
_MOVED = ", ".join(
    f"i.source_hashes IS NULL OR i.source_hashes[{k}] IS DISTINCT FROM w.source_hashes[{k}]"
    f" AS {name}" for k, name in enumerate(SOURCE_GROUPS, 1))
UPDATE_CHANGED = f"""
WITH ch AS (
    SELECT w.*, i.status AS old_status,
        array_remove(ARRAY[
            CASE WHEN g.status AND i.status IS DISTINCT FROM w.status THEN 'status' END,
            CASE WHEN g.category AND i.category_id IS DISTINCT FROM w.category_id
                 THEN 'category' END,
            CASE WHEN g.department AND w.source_department_id IS DISTINCT FROM i.department_id
                      AND w.source_department_id IS NOT NULL THEN 'department' END,
            CASE WHEN g.location AND ST_AsBinary(i.geom) IS DISTINCT FROM ST_AsBinary(w.geom)
                 THEN 'location' END,
            CASE WHEN g.address AND i.address IS DISTINCT FROM w.address THEN 'address' END,
            CASE WHEN g.description AND i.description IS DISTINCT FROM w.description
                 THEN 'description' END,
            CASE WHEN g.created_at AND i.created_at IS DISTINCT FROM w.created_at
                 THEN 'created_at' END,
            CASE WHEN g.status AND i.resolved_at IS DISTINCT FROM w.resolved_at
                 THEN 'resolved_at' END,
            CASE WHEN g.status AND i.closed_at IS DISTINCT FROM w.closed_at THEN 'closed_at' END,
            CASE WHEN g.status AND i.resolution_text IS DISTINCT FROM w.resolution_text
                 THEN 'resolution_text' END
        ], NULL) AS changed
    FROM etl_work w
    JOIN incidents i ON i.city_id = :c AND i.incident_id = w.incident_id
    -- Which groups the source changed (all of them for a row without hashes).
    CROSS JOIN LATERAL (SELECT {_MOVED}) g
    -- Said outright, the planner reads from the work table's statistics that
    -- a batch of new rows matches nothing, instead of hashing all of the
    -- city's incidents (whose statistics lag behind a load) to find out.
    WHERE w.reason IS NULL AND w.incident_id IS NOT NULL
      AND i.source_hashes IS DISTINCT FROM w.source_hashes
      -- A row older than the version applied changes nothing (0028): it
      -- counts as unchanged.
      AND NOT COALESCE(w.source_updated_at < i.source_updated_at, false)
),
upd AS (
    UPDATE incidents i SET
        status = CASE WHEN 'status' = ANY (ch.changed) THEN ch.status ELSE i.status END,
        category_id = CASE WHEN 'category' = ANY (ch.changed)
                           THEN ch.category_id ELSE i.category_id END,
        department_id = CASE WHEN ch.changed && ARRAY['category', 'department']
                             THEN ch.department_id ELSE i.department_id END,
        assignee_user_id = CASE WHEN ch.changed && ARRAY['category', 'department']
                                THEN ch.assignee_user_id ELSE i.assignee_user_id END,
        district_id = CASE WHEN 'location' = ANY (ch.changed)
                           THEN ch.district_id ELSE i.district_id END,
        geom = CASE WHEN 'location' = ANY (ch.changed) THEN ch.geom ELSE i.geom END,
        address = CASE WHEN 'address' = ANY (ch.changed) THEN ch.address ELSE i.address END,
        description = CASE WHEN 'description' = ANY (ch.changed)
                           THEN ch.description ELSE i.description END,
        -- A new description from the source can hide it (it looks personal),
        -- never publish it: staff may have hidden the old one.
        description_public = CASE WHEN 'description' = ANY (ch.changed)
                                  THEN i.description_public AND ch.description_public
                                  ELSE i.description_public END,
        created_at = CASE WHEN 'created_at' = ANY (ch.changed)
                          THEN ch.created_at ELSE i.created_at END,
        -- Staff times kept beside a later creation time from the source move
        -- up to it: nothing is done before it is reported.
        acknowledged_at = CASE WHEN 'created_at' = ANY (ch.changed)
                                    AND i.acknowledged_at < ch.created_at
                               THEN ch.created_at ELSE i.acknowledged_at END,
        resolved_at = CASE WHEN 'resolved_at' = ANY (ch.changed) THEN ch.resolved_at
                           WHEN 'created_at' = ANY (ch.changed) AND i.resolved_at < ch.created_at
                           THEN ch.created_at ELSE i.resolved_at END,
        closed_at = CASE WHEN 'closed_at' = ANY (ch.changed) THEN ch.closed_at
                         WHEN 'created_at' = ANY (ch.changed) AND i.closed_at < ch.created_at
                         THEN ch.created_at ELSE i.closed_at END,
        resolution_text = CASE WHEN 'resolution_text' = ANY (ch.changed)
                               THEN ch.resolution_text ELSE i.resolution_text END,
        duplicate_of = CASE WHEN 'status' = ANY (ch.changed) THEN NULL ELSE i.duplicate_of END,
        -- Only new hashes (the source changed what the incident already
        -- says): no update for the people reading the incident.
        updated_at = CASE WHEN cardinality(ch.changed) > 0 THEN now() ELSE i.updated_at END,
        source_hashes = ch.source_hashes,
        source_updated_at = COALESCE(ch.source_updated_at, i.source_updated_at)
    FROM ch
    WHERE i.city_id = :c AND i.incident_id = ch.incident_id
    RETURNING i.incident_id
)
INSERT INTO incident_events (city_id, incident_id, kind, from_status, to_status, actor_label,
    channel, is_public, data)
SELECT :c, ch.incident_id, 'updated', ch.old_status,
    CASE WHEN 'status' = ANY (ch.changed) THEN ch.status ELSE ch.old_status END,
    :actor, 'feed', false,
    jsonb_build_object('changed', to_jsonb(ch.changed), 'source', CAST(:src AS text),
                       'external_id', ch.ext, 'run_id', CAST(:run AS bigint))
FROM ch JOIN upd USING (incident_id)
WHERE cardinality(ch.changed) > 0
"""  # noqa: S608 - _MOVED is built from the fixed SOURCE_GROUPS

BATCH_SUMMARY = (
    "SELECT count(*) FILTER (WHERE reason IS NULL),"
    " max(watermark) FILTER (WHERE reason IS NULL) FROM etl_work"
)

UPDATE_RUN_COUNTS = """
UPDATE feed_runs SET
    rows_read = rows_read + :read,
    rows_inserted = rows_inserted + :ins,
    rows_updated = rows_updated + :upd,
    rows_unchanged = rows_unchanged + :unch,
    rows_rejected = rows_rejected + :rej,
    watermark = GREATEST(watermark, :wm)
WHERE city_id = :c AND run_id = :run
"""


#: Bulk mode: the indexes that cost per row during the load and can be built
#: once at its end.  The statements come from the catalog (``regclass`` and
#: ``pg_get_indexdef`` quote every identifier).
BULK_TABLES = "ARRAY['incidents'::regclass, 'incident_events'::regclass]"

BULK_DEFERRABLE = f"""
SELECT i.indexrelid::regclass::text AS name,
       format('DROP INDEX %s', i.indexrelid::regclass) AS drop_stmt,
       pg_get_indexdef(i.indexrelid) AS create_stmt
FROM pg_index i
WHERE i.indrelid = ANY ({BULK_TABLES}) AND NOT i.indisunique AND NOT i.indisprimary
"""  # noqa: S608 - BULK_TABLES is the fixed text above

#: Bulk mode: the foreign keys between the two tables the load already holds
#: (an event's incident, an incident's original and recurrence), checked once
#: over both tables at the end instead of row by row.  Dropping one locks no
#: other table.  The keys to other tables (categories, departments, users...)
#: stay and are checked per row: dropping one would lock the table it refers
#: to, which the helper session and every page read while the load runs.
BULK_DEFERRED_KEYS = f"""
SELECT c.conname,
       format('ALTER TABLE %s DROP CONSTRAINT %I', c.conrelid::regclass, c.conname),
       format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname,
              pg_get_constraintdef(c.oid))
FROM pg_constraint c
WHERE c.contype = 'f' AND c.conrelid = ANY ({BULK_TABLES})
  AND c.confrelid = ANY ({BULK_TABLES})
ORDER BY c.conname
"""  # noqa: S608 - BULK_TABLES is the fixed text above

#: Bulk mode: the rollups' triggers on insert into incidents (migrations 0015,
#: 0017, 0018), off during the load, and the function that rebuilds each
#: rollup for one city at its end: one grouped pass over the city's incidents
#: instead of an upsert of every batch's groups.  Every statement-level
#: insert trigger of incidents must be here (tests/test_etl_bulk.py checks).
BULK_ROLLUPS = {
    "incident_cells_insert": "refresh_incident_cells",
    "incident_daily_insert": "refresh_incident_daily",
    "incident_hexes_insert": "refresh_incident_hexes",
}

#: The oid of the sequence behind incidents.incident_id (see INSERT_NEW).
INCIDENT_ID_SEQUENCE = (
    "SELECT CAST(CAST(pg_get_serial_sequence('incidents', 'incident_id') AS regclass) AS oid)"
)

SOURCE_HAS_INCIDENTS = (
    "SELECT EXISTS (SELECT 1 FROM incidents WHERE city_id = :c AND source = :src)"
)

CLEAR_BATCH = "TRUNCATE etl_work"
