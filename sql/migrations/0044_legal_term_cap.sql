-- 0044 A legal reply term over the law's 30 days is brought to 30.
--
-- OG 27/2002 gives a petition 30 days for its answer.  The Administration
-- page took a city's `legal_reply_days` up to 90 until the setting was
-- capped at 30 (sesizari/admin.py: SETTINGS); a value stored before would
-- still set new reports' legal due dates and the Accountability page's
-- "answered within the legal term" (migration 0006 and
-- sesizari/commitments.py read it as stored).  A shorter term, a city's own
-- promise, stays.  Due dates already given to reports are not changed.
UPDATE cities
SET settings = jsonb_set(settings, '{legal_reply_days}', '30')
WHERE settings ->> 'legal_reply_days' ~ '^[0-9]+$'
  AND (settings ->> 'legal_reply_days')::integer > 30;
