-- 0037 An e-mail to the person a report is given to.
--
-- Routing, or a colleague, gives a report to one person; they learnt of it
-- from their work queue only.  A member of staff with an address
-- (`users.email`, set by the administrator) now gets a message when a
-- report is given to them: by a routing rule when it is registered, or by
-- an assignment (not one they made themselves).  Through the same outbox
-- (migrations 0035-0036); the row names the account, and the address is
-- read when sending, from an account that may still sign in.  The account's
-- history records that its address changed, never the address.
ALTER TABLE users ADD CONSTRAINT users_email_check
    CHECK (email IS NULL OR (length(email) <= 254
           AND email ~ '^[^@[:space:]<>,;:"()\[\]]+@[^@[:space:]<>,;:"()\[\]]+\.[^@[:space:]<>,;:"()\[\]]+$'));

ALTER TABLE notifications
    DROP CONSTRAINT notifications_recipient_check,
    ADD CONSTRAINT notifications_recipient_check
        CHECK (recipient IN ('reporter', 'department', 'assignee')),
    ADD COLUMN user_id integer,
    ADD CHECK ((recipient = 'assignee') = (user_id IS NOT NULL)),
    ADD FOREIGN KEY (city_id, user_id) REFERENCES users (city_id, user_id);
CREATE INDEX notifications_user_idx ON notifications (city_id, user_id)
    WHERE user_id IS NOT NULL;

CREATE OR REPLACE FUNCTION notifications_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.kind NOT IN ('rerouted', 'assigned') THEN
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
    IF NEW.kind = 'created' THEN
        INSERT INTO notifications (city_id, incident_id, event_id, recipient, user_id)
        SELECT NEW.city_id, NEW.incident_id, NEW.event_id, 'assignee', u.user_id
        FROM incidents i
        JOIN users u ON u.city_id = i.city_id AND u.user_id = i.assignee_user_id
        WHERE i.city_id = NEW.city_id AND i.incident_id = NEW.incident_id
          AND u.email IS NOT NULL AND u.active;
    ELSIF NEW.kind = 'assigned' THEN
        INSERT INTO notifications (city_id, incident_id, event_id, recipient, user_id)
        SELECT NEW.city_id, NEW.incident_id, NEW.event_id, 'assignee', u.user_id
        FROM users u
        WHERE u.city_id = NEW.city_id AND u.username = NEW.data->>'assignee'
          AND u.user_id IS DISTINCT FROM NEW.actor_user_id
          AND u.email IS NOT NULL AND u.active;
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
               OR NEW.kind IN ('rerouted', 'assigned'))
          AND NEW.created_at > now() - interval '1 day'
          AND coalesce(current_setting('sesizari.notify', true), '') <> 'off')
    EXECUTE FUNCTION notifications_enqueue();

-- The account's history: that the address changed, never the address (as
-- for a password).
CREATE OR REPLACE FUNCTION account_events_record() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    said    text := current_setting('sesizari.actor_user_id', true);
    actor   integer := CASE WHEN said ~ '^[0-9]{1,9}$' THEN said::integer END;
    old_dep text;
    new_dep text;
    changes jsonb := '{}'::jsonb;
BEGIN
    SELECT code INTO new_dep FROM departments
    WHERE city_id = NEW.city_id AND department_id = NEW.department_id;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO account_events (city_id, user_id, actor_user_id, kind, changes)
        VALUES (NEW.city_id, NEW.user_id, actor, 'created', jsonb_build_object(
            'full_name', NEW.full_name, 'role', NEW.role, 'department', new_dep,
            'active', NEW.active, 'password', NEW.password_hash IS NOT NULL,
            'email', NEW.email IS NOT NULL));
        RETURN NULL;
    END IF;
    SELECT code INTO old_dep FROM departments
    WHERE city_id = OLD.city_id AND department_id = OLD.department_id;
    IF OLD.full_name IS DISTINCT FROM NEW.full_name THEN
        changes := changes || jsonb_build_object('full_name',
                                                 jsonb_build_array(OLD.full_name, NEW.full_name));
    END IF;
    IF OLD.role IS DISTINCT FROM NEW.role THEN
        changes := changes || jsonb_build_object('role', jsonb_build_array(OLD.role, NEW.role));
    END IF;
    IF old_dep IS DISTINCT FROM new_dep THEN
        changes := changes || jsonb_build_object('department', jsonb_build_array(old_dep, new_dep));
    END IF;
    IF OLD.active IS DISTINCT FROM NEW.active THEN
        changes := changes || jsonb_build_object('active', jsonb_build_array(OLD.active, NEW.active));
    END IF;
    IF OLD.password_hash IS DISTINCT FROM NEW.password_hash THEN
        changes := changes || jsonb_build_object('password', true);
    END IF;
    IF OLD.email IS DISTINCT FROM NEW.email THEN
        changes := changes || jsonb_build_object('email', true);
    END IF;
    IF changes <> '{}'::jsonb THEN
        INSERT INTO account_events (city_id, user_id, actor_user_id, kind, changes)
        VALUES (NEW.city_id, NEW.user_id, actor, 'changed', changes);
    END IF;
    RETURN NULL;
END
$$;
