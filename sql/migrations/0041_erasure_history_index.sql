-- 0041 The Administration page's list of removals of personal data.
--
-- It reads the city's latest `erased` events (sesizari.privacy.erasure_history)
-- on every visit of the page; among millions of events of other kinds, this
-- partial index finds them without reading the rest.
CREATE INDEX incident_events_erased_idx ON incident_events (city_id, created_at DESC)
    WHERE kind = 'erased';
