-- 0015 Daily and monthly rollups of incidents, and a fixed sample of them.
--
-- incident_daily: per city, local creation day (in the city's zone),
-- category, department, district and status, the counts and duration sums
-- that the resolution and department figures add up.  A whole-city figure
-- then reads about 80,000 rollup rows instead of 580,000 incidents (at
-- 1,000,000 demo incidents: counts and means by category 450 -> 25 ms).
-- Every filter of the dashboard is a key of the rollup (dates are local
-- days), so sums over it are exact, not estimates.
--
-- Kept fresh in the statement that changes incidents: statement-level
-- triggers aggregate the statement's transition rows once (a 20,000-row
-- ETL batch is one upsert of a few thousand groups, not 20,000), in key
-- order, so two writers lock the groups they share in the same order.
-- Durations are hours from creation, as in sesizari/queries/resolution.py;
-- "within target" compares them with the category's target_hours, so a
-- changed target, or a city's changed time zone, rebuilds the rows concerned.
CREATE TABLE incident_daily (
    city_id        integer NOT NULL,
    day            date NOT NULL,      -- local date of created_at in the city's zone
    category_id    integer NOT NULL,
    department_id  integer NOT NULL,
    district_id    integer NOT NULL,   -- 0: outside every district (ids are positive)
    status         text NOT NULL,
    n              integer NOT NULL,   -- incidents
    n_acknowledged integer NOT NULL,   -- with acknowledged_at
    ack_sum_h      float8 NOT NULL,    -- sum of hours to acknowledge
    n_resolved     integer NOT NULL,   -- with resolved_at
    resolve_sum_h  float8 NOT NULL,    -- sum of hours to resolve
    n_within       integer NOT NULL,   -- resolved within the category's target
    -- Resolved incidents by hours to resolve, in the bins of the dashboard's
    -- distribution chart (DEFAULT_BINS of sesizari/queries/resolution.py):
    -- [0, 4), [4, 8), [8, 24), [24, 48), [48, 72), [72, 168), [168, 336),
    -- [336, 720) and 720 hours or more.
    resolved_lt_4h  integer NOT NULL,
    resolved_4_8h   integer NOT NULL,
    resolved_8_24h  integer NOT NULL,
    resolved_1_2d   integer NOT NULL,
    resolved_2_3d   integer NOT NULL,
    resolved_3_7d   integer NOT NULL,
    resolved_7_14d  integer NOT NULL,
    resolved_14_30d integer NOT NULL,
    resolved_gt_30d integer NOT NULL,
    CONSTRAINT incident_daily_key
        PRIMARY KEY (city_id, day, category_id, department_id, district_id, status)
);

-- The same sums by local month: a figure over whole months (any selection
-- without dates, and the full months inside a date range) reads about a
-- fourteenth of the daily rows (Alba Iulia: 78,597 -> 5,748).
CREATE TABLE incident_monthly (LIKE incident_daily);
ALTER TABLE incident_monthly RENAME COLUMN day TO month;  -- first day of the local month
ALTER TABLE incident_monthly ADD CONSTRAINT incident_monthly_key
    PRIMARY KEY (city_id, month, category_id, department_id, district_id, status);

-- The rollup rows of a set of incidents, each incident counted `sign` times.
-- One definition for the triggers and for the rebuild below.
CREATE FUNCTION incident_daily_rows(p_source text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT format($q$
        SELECT r.city_id, CAST(r.created_at AT TIME ZONE ct.timezone AS date) AS day,
               r.category_id, r.department_id, COALESCE(r.district_id, 0) AS district_id, r.status,
               sum(r.sign) AS n,
               COALESCE(sum(r.sign) FILTER (WHERE r.acknowledged_at IS NOT NULL), 0)
                   AS n_acknowledged,
               COALESCE(sum(r.sign * date_part('epoch', r.acknowledged_at - r.created_at)
                            / 3600.0), 0) AS ack_sum_h,
               COALESCE(sum(r.sign) FILTER (WHERE r.resolved_at IS NOT NULL), 0) AS n_resolved,
               COALESCE(sum(r.sign * date_part('epoch', r.resolved_at - r.created_at)
                            / 3600.0), 0) AS resolve_sum_h,
               COALESCE(sum(r.sign) FILTER (
                   WHERE date_part('epoch', r.resolved_at - r.created_at) / 3600.0
                         <= CAST(c.target_hours AS float8)), 0) AS n_within,
               COALESCE(sum(r.sign) FILTER (WHERE r.bin = 0), 0) AS resolved_lt_4h,
               COALESCE(sum(r.sign) FILTER (WHERE r.bin = 1), 0) AS resolved_4_8h,
               COALESCE(sum(r.sign) FILTER (WHERE r.bin = 2), 0) AS resolved_8_24h,
               COALESCE(sum(r.sign) FILTER (WHERE r.bin = 3), 0) AS resolved_1_2d,
               COALESCE(sum(r.sign) FILTER (WHERE r.bin = 4), 0) AS resolved_2_3d,
               COALESCE(sum(r.sign) FILTER (WHERE r.bin = 5), 0) AS resolved_3_7d,
               COALESCE(sum(r.sign) FILTER (WHERE r.bin = 6), 0) AS resolved_7_14d,
               COALESCE(sum(r.sign) FILTER (WHERE r.bin = 7), 0) AS resolved_14_30d,
               COALESCE(sum(r.sign) FILTER (WHERE r.bin = 8), 0) AS resolved_gt_30d
        FROM (SELECT s.*,
                     width_bucket(date_part('epoch', s.resolved_at - s.created_at) / 3600.0,
                                  CAST(ARRAY[4, 8, 24, 48, 72, 168, 336, 720] AS float8[]))
                         AS bin
              FROM (%s) s) r
        JOIN public.cities ct ON ct.city_id = r.city_id
        JOIN public.categories c ON c.city_id = r.city_id AND c.category_id = r.category_id
        GROUP BY 1, 2, 3, 4, 5, 6
    $q$, p_source)
    $$;

-- The upsert of one rollup table (p_table, keyed by p_key: day or month)
-- from the rows of the CTE p_delta, in key order, returning the changed rows.
CREATE FUNCTION incident_rollup_insert(p_table text, p_key text, p_delta text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT format($q$
        INSERT INTO public.%1$I AS d
            (city_id, %2$I, category_id, department_id, district_id, status, n,
             n_acknowledged, ack_sum_h, n_resolved, resolve_sum_h, n_within, resolved_lt_4h,
             resolved_4_8h, resolved_8_24h, resolved_1_2d, resolved_2_3d, resolved_3_7d,
             resolved_7_14d, resolved_14_30d, resolved_gt_30d)
        SELECT city_id, %2$I, category_id, department_id, district_id, status, n,
               n_acknowledged, ack_sum_h, n_resolved, resolve_sum_h, n_within,
               resolved_lt_4h, resolved_4_8h, resolved_8_24h, resolved_1_2d, resolved_2_3d,
               resolved_3_7d, resolved_7_14d, resolved_14_30d, resolved_gt_30d
        FROM %3$I
        WHERE n <> 0 OR n_acknowledged <> 0 OR n_resolved <> 0 OR n_within <> 0
           OR ack_sum_h <> 0 OR resolve_sum_h <> 0
           OR resolved_lt_4h <> 0 OR resolved_4_8h <> 0 OR resolved_8_24h <> 0
           OR resolved_1_2d <> 0 OR resolved_2_3d <> 0 OR resolved_3_7d <> 0
           OR resolved_7_14d <> 0 OR resolved_14_30d <> 0 OR resolved_gt_30d <> 0
        ORDER BY city_id, %2$I, category_id, department_id, district_id, status
        ON CONFLICT ON CONSTRAINT %4$I DO UPDATE SET
            n = d.n + excluded.n,
            n_acknowledged = d.n_acknowledged + excluded.n_acknowledged,
            ack_sum_h = d.ack_sum_h + excluded.ack_sum_h,
            n_resolved = d.n_resolved + excluded.n_resolved,
            resolve_sum_h = d.resolve_sum_h + excluded.resolve_sum_h,
            n_within = d.n_within + excluded.n_within,
            resolved_lt_4h = d.resolved_lt_4h + excluded.resolved_lt_4h,
            resolved_4_8h = d.resolved_4_8h + excluded.resolved_4_8h,
            resolved_8_24h = d.resolved_8_24h + excluded.resolved_8_24h,
            resolved_1_2d = d.resolved_1_2d + excluded.resolved_1_2d,
            resolved_2_3d = d.resolved_2_3d + excluded.resolved_2_3d,
            resolved_3_7d = d.resolved_3_7d + excluded.resolved_3_7d,
            resolved_7_14d = d.resolved_7_14d + excluded.resolved_7_14d,
            resolved_14_30d = d.resolved_14_30d + excluded.resolved_14_30d,
            resolved_gt_30d = d.resolved_gt_30d + excluded.resolved_gt_30d
        RETURNING d.ctid, d.n
    $q$, p_table, p_key, p_delta, p_table || '_key')
    $$;

-- The statement that adds the rows of `p_source` (a query giving incidents
-- and a `sign` column) to both rollups, in key order.  It returns the row ids
-- of the groups it left empty in each, for incident_daily_prune.  The
-- triggers run it with EXECUTE themselves: a transition table is visible to
-- the trigger function's own statements only, not to a function it calls.
CREATE FUNCTION incident_daily_upsert(p_source text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT format($q$
        WITH delta AS (%s),
        mdelta AS (
            SELECT city_id, CAST(date_trunc('month', CAST(day AS timestamp)) AS date) AS month,
                   category_id, department_id, district_id, status,
                   sum(n) AS n,
                   sum(n_acknowledged) AS n_acknowledged,
                   sum(ack_sum_h) AS ack_sum_h,
                   sum(n_resolved) AS n_resolved,
                   sum(resolve_sum_h) AS resolve_sum_h,
                   sum(n_within) AS n_within,
                   sum(resolved_lt_4h) AS resolved_lt_4h,
                   sum(resolved_4_8h) AS resolved_4_8h,
                   sum(resolved_8_24h) AS resolved_8_24h,
                   sum(resolved_1_2d) AS resolved_1_2d,
                   sum(resolved_2_3d) AS resolved_2_3d,
                   sum(resolved_3_7d) AS resolved_3_7d,
                   sum(resolved_7_14d) AS resolved_7_14d,
                   sum(resolved_14_30d) AS resolved_14_30d,
                   sum(resolved_gt_30d) AS resolved_gt_30d
            FROM delta
            GROUP BY 1, 2, 3, 4, 5, 6
        ),
        up AS (%s),
        upm AS (%s)
        SELECT (SELECT array_agg(ctid) FILTER (WHERE n = 0) FROM up),
               (SELECT array_agg(ctid) FILTER (WHERE n = 0) FROM upm)
    $q$, public.incident_daily_rows(p_source),
         public.incident_rollup_insert('incident_daily', 'day', 'delta'),
         public.incident_rollup_insert('incident_monthly', 'month', 'mdelta'))
    $$;

-- Drop the groups an upsert left without incidents (a separate statement:
-- one statement cannot change a row twice).
CREATE FUNCTION incident_daily_prune(p_daily tid[], p_monthly tid[]) RETURNS void
    LANGUAGE sql
    AS $$
    DELETE FROM public.incident_daily WHERE ctid = ANY(p_daily);
    DELETE FROM public.incident_monthly WHERE ctid = ANY(p_monthly);
    $$;

-- One trigger function for the three kinds of change: each statement's new
-- rows count once, its old rows minus once.
CREATE FUNCTION incident_daily_on_change() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    empty_d tid[];
    empty_m tid[];
BEGIN
    EXECUTE public.incident_daily_upsert(CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT n.*, 1 AS sign FROM new_rows n'
        WHEN 'DELETE' THEN 'SELECT o.*, -1 AS sign FROM old_rows o'
        ELSE 'SELECT n.*, 1 AS sign FROM new_rows n UNION ALL SELECT o.*, -1 FROM old_rows o'
        END)
        INTO empty_d, empty_m;
    PERFORM public.incident_daily_prune(empty_d, empty_m)
        WHERE empty_d IS NOT NULL OR empty_m IS NOT NULL;
    RETURN NULL;
END
$$;

CREATE TRIGGER incident_daily_insert AFTER INSERT ON incidents
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION incident_daily_on_change();
CREATE TRIGGER incident_daily_update AFTER UPDATE ON incidents
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION incident_daily_on_change();
CREATE TRIGGER incident_daily_delete AFTER DELETE ON incidents
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION incident_daily_on_change();

-- TRUNCATE removes every incident (of every city): the rollups follow.
CREATE FUNCTION incident_daily_on_truncate() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    TRUNCATE public.incident_daily, public.incident_monthly;
    RETURN NULL;
END
$$;

CREATE TRIGGER incident_daily_truncate AFTER TRUNCATE ON incidents
    FOR EACH STATEMENT EXECUTE FUNCTION incident_daily_on_truncate();

-- Rebuild a city's rollup (one category's rows when p_category is given)
-- from its incidents.
CREATE FUNCTION refresh_incident_daily(p_city integer, p_category integer DEFAULT NULL)
    RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    DELETE FROM public.incident_daily
    WHERE city_id = p_city AND (p_category IS NULL OR category_id = p_category);
    DELETE FROM public.incident_monthly
    WHERE city_id = p_city AND (p_category IS NULL OR category_id = p_category);
    EXECUTE public.incident_daily_upsert(format(
        'SELECT i.*, 1 AS sign FROM public.incidents i WHERE i.city_id = %s%s',
        p_city,
        CASE WHEN p_category IS NULL THEN ''
             ELSE format(' AND i.category_id = %s', p_category) END));
END
$$;

CREATE FUNCTION incident_daily_on_target() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM public.refresh_incident_daily(NEW.city_id, NEW.category_id);
    RETURN NULL;
END
$$;

CREATE FUNCTION incident_daily_on_timezone() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM public.refresh_incident_daily(NEW.city_id);
    RETURN NULL;
END
$$;

CREATE TRIGGER incident_daily_target AFTER UPDATE OF target_hours ON categories
    FOR EACH ROW WHEN (OLD.target_hours IS DISTINCT FROM NEW.target_hours)
    EXECUTE FUNCTION incident_daily_on_target();
CREATE TRIGGER incident_daily_timezone AFTER UPDATE OF timezone ON cities
    FOR EACH ROW WHEN (OLD.timezone IS DISTINCT FROM NEW.timezone)
    EXECUTE FUNCTION incident_daily_on_timezone();

DO $$ BEGIN PERFORM refresh_incident_daily(city_id) FROM cities; END $$;
ANALYZE incident_daily;
ANALYZE incident_monthly;

-- One incident in eight, fixed by a hash of its id (immutable, spread
-- evenly whatever order ids were given in): percentiles of a selection too
-- large to sort at page speed are read from this sample through its own
-- small index (sesizari/queries/sample.py).  The predicate must be written
-- the same way in the queries for PostgreSQL to use the index.
CREATE INDEX incidents_sample_idx ON incidents (city_id, created_at)
    INCLUDE (category_id, department_id, district_id, status, acknowledged_at, resolved_at)
    WHERE (hashint8extended(incident_id, 0) & 7) = 0;
