-- 0024 Source dates that only look like dates are refused, not guessed.
--
-- etl_local_time (migration 0002) read a value of an 'iso' column with
-- PostgreSQL's own date input, which accepts far more than ISO 8601 and
-- guessed where it should have refused:
--   '01.02.2026' and '01/02/2026' were read month first (2 January), so a
--     Romanian export loaded with the wrong mapping format got every day
--     and month below 13 swapped, without one reject;
--   'now', 'today', 'tomorrow', 'epoch' became the load's time or 1970;
--   '2026-01-01 10:00 America/New_York' lost its zone and was read in the
--     mapping's;
--   'Jan 5 2026', '20260105', '2026-1-1', 'J2461000' were read too.
-- Such a value is now 'bad_date', so the reject names it and the mapping's
-- format can be fixed.  ISO 8601 here is what exports write: YYYY-MM-DD,
-- then optionally a time (T or a space, HH:MM[:SS[.fraction]]) and, after
-- a time, an offset (Z, +HH, +HHMM, +HH:MM).  The same pattern is
-- etl/sql.py ISO_DATE_RE (a test holds them to the same answers).
--
-- A to_timestamp() pattern with a meridiem (AM, PM, A.M., P.M., any case)
-- now needs one in the value: to_timestamp() reads '02/17/2020 12:19:00'
-- against 'MM/DD/YYYY HH12:MI:SS AM' as 00:19, twelve hours off, where the
-- source most likely dropped the PM.
--
-- The rest of the function (offsets, DST gaps and overlaps, year bounds)
-- is unchanged.
CREATE OR REPLACE FUNCTION etl_local_time(s text, fmt text, tz text, OUT ts timestamptz,
                                          OUT problem text)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    naive  timestamp;
    before interval;
    after  interval;
    c1     timestamptz;
    c2     timestamptz;
    ok1    boolean;
    ok2    boolean;
BEGIN
    s := btrim(s);
    IF s IS NULL OR s = '' THEN
        RETURN;
    END IF;
    IF fmt = 'iso' THEN
        IF s !~ ('^[0-9]{4}-[0-9]{2}-[0-9]{2}'
                 '([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?'
                 '(\s*([Zz]|[+-][0-9]{2}(:?[0-9]{2})?))?)?$') THEN
            problem := 'bad_date';
            RETURN;
        END IF;
    ELSIF fmt ~* '(^|[^A-Z])(AM|PM|A\.M\.|P\.M\.)' AND s !~* '[AP]\.?M\.?' THEN
        problem := 'bad_date';
        RETURN;
    END IF;
    BEGIN
        IF fmt = 'iso' THEN
            IF s ~ '[0-9]:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?\s*([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)$' THEN
                ts := s::timestamptz;
                IF ts < '1900-01-02' OR ts >= '2999-12-31' THEN
                    ts := NULL;
                    problem := 'bad_date';
                END IF;
                RETURN;
            END IF;
            naive := s::timestamp;
        ELSE
            naive := to_timestamp(s, fmt) AT TIME ZONE current_setting('TimeZone');
        END IF;
    EXCEPTION WHEN others THEN
        problem := 'bad_date';
        RETURN;
    END;
    IF naive < '1900-01-01' OR naive >= '3000-01-01' THEN
        problem := 'bad_date';
        RETURN;
    END IF;
    -- UTC offsets half a day before and after: they differ only around a DST switch.
    before := (naive - interval '12 hours')
              - (((naive - interval '12 hours') AT TIME ZONE tz) AT TIME ZONE 'UTC');
    after  := (naive + interval '12 hours')
              - (((naive + interval '12 hours') AT TIME ZONE tz) AT TIME ZONE 'UTC');
    c1 := (naive - before) AT TIME ZONE 'UTC';
    c2 := (naive - after) AT TIME ZONE 'UTC';
    ok1 := (c1 AT TIME ZONE tz) = naive;
    ok2 := (c2 AT TIME ZONE tz) = naive;
    IF ok1 AND ok2 AND c1 <> c2 THEN
        problem := 'ambiguous_local_time';
    ELSIF ok1 THEN
        ts := c1;
    ELSIF ok2 THEN
        ts := c2;
    ELSE
        problem := 'nonexistent_local_time';
    END IF;
END;
$$;
