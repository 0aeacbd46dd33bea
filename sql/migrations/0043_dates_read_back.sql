-- 0043 A date read with a pattern must be the date the source wrote.
--
-- to_timestamp() (PostgreSQL 15) reads what it can and says nothing of the
-- rest, so with the pattern 'DD.MM.YYYY HH24:MI' it read
--   '00.00.2026 10:00' as 1 January 2026 (day and month 0 carried over),
--   '15.03.2026 10:00:99' and '15.03.2026 10:00 extra text' as 10:00 (what
--     follows the pattern ignored: seconds out of range, a zone's name),
--   '15.03.2026' as midnight (a time the source did not give),
-- where mappings/README.md says anything else is rejected as bad_date,
-- never guessed.  The value read is now written back with the same pattern
-- (to_char) and compared with the source's: equal up to letter case, the
-- separators between numbers and words (any run of them reads as one
-- space, and a number touching a word as if one stood between them, as
-- to_timestamp() reads them) and leading zeros ('4/5/2026' under
-- 'MM/DD/YYYY').  Patterns with a zone or offset (TZ, TZH, OF), fractions
-- of a second (MS, US, FF1-6) or localized names (TM) are left as they
-- were: to_char() cannot write those back as the source did.

-- The words and numbers of a date as text, for that comparison: lower case,
-- a number and a word that touch apart ('9:05PM', '15Mar2026', as
-- to_timestamp() reads them), every run of ASCII spaces and punctuation one
-- space, leading zeros gone.  Letters outside ASCII stay words: text after
-- the date in them ('10:00 ąść') still differs.
CREATE OR REPLACE FUNCTION etl_date_words(s text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT regexp_replace(
        btrim(regexp_replace(
            regexp_replace(
                regexp_replace(lower(s), '([0-9])([^0-9[:space:]!-/:-@[-`{-~])', '\1 \2', 'g'),
                '([^0-9[:space:]!-/:-@[-`{-~])([0-9])', '\1 \2', 'g'),
            '[[:space:]!-/:-@[-`{-~]+', ' ', 'g')),
        '(^|[^0-9])0+([0-9])', '\1\2', 'g')
$$;

CREATE OR REPLACE FUNCTION etl_local_time(s text, fmt text, tz text, OUT ts timestamptz,
                                          OUT problem text)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    naive  timestamp;
    written text;
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
            -- Written back in the same pattern, the value must be what the
            -- source wrote (etl_date_words): to_timestamp() reads past what
            -- the pattern does not name and carries what is out of range.
            -- Most exports write every value as the pattern does (zero-padded):
            -- the words are compared only when the two texts differ.
            written := to_char(naive, fmt);
            IF written <> s AND fmt !~* '(TZ|OF|MS|US|FF|TM)'
               AND etl_date_words(written) <> etl_date_words(s) THEN
                problem := 'bad_date';
                RETURN;
            END IF;
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
