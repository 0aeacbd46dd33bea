-- 0027 Descriptions that look like they hold personal data are not published.
--
-- incidents.description_public (0004) let staff hide a description that
-- names a person or a plate, one incident at a time.  A citizen who writes
-- "call me at 0722 123 456" was published until someone hid it, and an
-- import of a registry export (thousands of descriptions typed by clerks)
-- could publish phone numbers and personal numeric codes (CNP) at once,
-- faster than anyone could read them.
--
-- looks_personal(text) says whether a text holds what is personal data on
-- its own: an e-mail address, a Romanian phone number (mobile or landline,
-- national or +40/0040, digits grouped with spaces, dots or dashes), a CNP
-- (13 digits: sex 1-8, a valid month and day, a county code) or a Romanian
-- number plate (county code or B, digits, three letters).  A date or a time
-- is not a phone number (02.03.2026 07:45).  Names cannot be told by a pattern: a source whose
-- descriptions name people is loaded with publish_descriptions = false
-- (etl/mappings/README.md).
--
-- New incidents (citizens, staff, feeds) get description_public = false when
-- their description looks personal; staff can still publish it after reading
-- it (the incident page says why it is hidden).  A feed's later change of a
-- description can hide it, never publish it.  The incidents already stored
-- are checked once, below.
--
-- The check errs on the side of hiding: a false alarm hides one description
-- from the public outputs, a miss publishes a phone number.

CREATE FUNCTION looks_personal(t text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN t IS NULL THEN false ELSE
    -- e-mail (the '@' test first: most texts have none, and it costs a tenth)
    (strpos(t, '@') > 0
     AND t ~ '[[:alnum:]._%+-]+@[[:alnum:]-]+(\.[[:alnum:]-]+)*\.[[:alpha:]]{2,}')
    OR (t ~ '[0-9]' AND (
        -- CNP: sex/century, year, month, day, county (01-52, 70, 80-83),
        -- serial and check digit
        t ~ '(^|[^0-9])[1-8][0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])(0[1-9]|[1-4][0-9]|5[0-2]|70|8[0-3])[0-9]{4}($|[^0-9])'
        -- phone: 0 (or +40, 0040), the first three digits of the national
        -- number together (722, 256; Bucharest's 21 or 31 then a separator),
        -- then six more, at most two separator characters (space, dot,
        -- slash, dash, bracket) between digits.  A date or time never has
        -- three digits after a leading 0 (02.03.2026, 07:45).
        OR t ~ '(^|[^0-9+])(\+40|0040|0)[ .-]?\(?([237][0-9]{2}|[23]1[ ./)-]{1,2}[0-9])([ ./()-]{0,2}[0-9]){6}($|[^0-9])'
        -- number plate: B 123 ABC, TM 12 ABC (county codes), any case; the
        -- cheap test of two digits before three letters first
        OR (t ~ '[0-9]{2}[ -]?[[:alpha:]]{3}'
            AND t ~* '(^|[^[:alnum:]])(B[ -]?[0-9]{2,3}|(AB|AG|AR|BC|BH|BN|BR|BT|BV|BZ|CJ|CL|CS|CT|CV|DB|DJ|GJ|GL|GR|HD|HR|IF|IL|IS|MH|MM|MS|NT|OT|PH|SB|SJ|SM|SV|TL|TM|TR|VL|VN|VS)[ -]?[0-9]{2})[ -]?[A-Z]{3}($|[^[:alnum:]])')))
END
$$;

COMMENT ON FUNCTION looks_personal(text) IS
    'Whether a text holds an e-mail address, a Romanian phone number, a CNP or a number plate:'
    ' such a description is not published until staff publish it (migration 0027).';

UPDATE incidents SET description_public = false, updated_at = now()
WHERE description_public AND looks_personal(description);
