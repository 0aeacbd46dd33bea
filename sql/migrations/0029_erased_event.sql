-- 0029 Personal data kept no longer than needed (GDPR), and said so.
--
-- A reporter's contacts (incident_contacts) expire a city's retention
-- period after the incident was answered, and an erasure request removes
-- one reporter's data at once: contacts, the photos sent with the report,
-- the words of the report (sesizari/privacy.py).  The registry entry stays:
-- number, dates, category, place, status and what staff did.
--
-- Each removal is written in the incident's history as an 'erased' event
-- naming what went and why (retention or a request), never the values,
-- so that staff see why a reporter can no longer be reached.
ALTER TABLE incident_events DROP CONSTRAINT incident_events_kind_check;
ALTER TABLE incident_events ADD CONSTRAINT incident_events_kind_check
    CHECK (kind IN ('created', 'acknowledged', 'started', 'resolved', 'closed',
                    'rejected', 'duplicate', 'reopened', 'assigned', 'rerouted',
                    'note', 'public_update', 'updated',
                    'extended', 'forwarded', 'confirmed', 'disputed', 'verified',
                    'erased'));
