-- 0036 An e-mail to the department a report is routed to.
--
-- Routing gave a report to a department, which learnt of it only by opening
-- its work queue.  A department with an address (`departments.email`, set
-- on the Administration page: a shared mailbox, the registry's) now gets a
-- message when a report is registered for it, or re-routed to it, through
-- the same outbox as the reporter's (migration 0035).  Its row names the
-- department, not an address: the address is read when sending, so a
-- change of mailbox applies to what is still waiting.  Reports from feeds
-- send nothing (they are other systems' records, often by the thousand).
ALTER TABLE departments ADD CONSTRAINT departments_email_check
    CHECK (email IS NULL OR (length(email) <= 254
           AND email ~ '^[^@[:space:]<>,;:"()\[\]]+@[^@[:space:]<>,;:"()\[\]]+\.[^@[:space:]<>,;:"()\[\]]+$'));

ALTER TABLE notifications
    ADD COLUMN recipient text NOT NULL DEFAULT 'reporter'
        CHECK (recipient IN ('reporter', 'department')),
    ADD COLUMN department_id integer,
    ADD CHECK ((recipient = 'department') = (department_id IS NOT NULL)),
    ADD FOREIGN KEY (city_id, department_id) REFERENCES departments (city_id, department_id),
    DROP CONSTRAINT notifications_city_id_event_id_key,
    ADD UNIQUE (city_id, event_id, recipient);

CREATE OR REPLACE FUNCTION notifications_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.kind <> 'rerouted' THEN
        INSERT INTO notifications (city_id, incident_id, event_id)
        SELECT NEW.city_id, NEW.incident_id, NEW.event_id
        FROM incident_contacts c
        WHERE c.city_id = NEW.city_id AND c.incident_id = NEW.incident_id
          AND c.email IS NOT NULL;
    END IF;
    IF NEW.kind IN ('created', 'rerouted') THEN
        INSERT INTO notifications (city_id, incident_id, event_id, recipient, department_id)
        SELECT NEW.city_id, NEW.incident_id, NEW.event_id, 'department', i.department_id
        FROM incidents i
        JOIN departments d ON d.city_id = i.city_id AND d.department_id = i.department_id
        WHERE i.city_id = NEW.city_id AND i.incident_id = NEW.incident_id
          AND d.email IS NOT NULL;
    END IF;
    RETURN NULL;
END
$$;

DROP TRIGGER incident_events_notify ON incident_events;
CREATE TRIGGER incident_events_notify AFTER INSERT ON incident_events
    FOR EACH ROW
    WHEN (NEW.channel <> 'feed'
          AND ((NEW.is_public
                AND (NEW.kind = 'created'
                     OR (NEW.channel = 'staff'
                         AND NEW.kind IN ('acknowledged', 'started', 'resolved', 'closed',
                                          'rejected', 'duplicate', 'reopened', 'public_update',
                                          'extended', 'forwarded'))))
               OR NEW.kind = 'rerouted')
          AND NEW.created_at > now() - interval '1 day'
          AND coalesce(current_setting('sesizari.notify', true), '') <> 'off')
    EXECUTE FUNCTION notifications_enqueue();
