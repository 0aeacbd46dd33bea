-- Run after every migration run: what the read-only role may read.
--
-- The dashboard's analytics take user input into their filters and run as
-- `sesizari_reader` (sesizari/db.py: read_engine), a login that can read the
-- incidents and their rollups and write nothing.  Even a filter that some
-- day slipped text into the SQL could then neither change data nor read the
-- tables below, which hold personal data and secrets: reporters' contacts,
-- staff accounts (password hashes) and their sessions, API keys, salted
-- client hashes; the mail outbox, which only the sender needs; and the
-- e-mails received, waiting for the dispatcher.
--
-- The role is created by the embedded cluster (sesizari/cluster.py); on
-- another server an administrator creates it (README: "A read-only login").
-- Without the role this does nothing.  The rule is applied on every run, so
-- a table added by a later migration is covered by it; a table whose grant
-- is already right is left alone (a GRANT rewrites the catalogue row and
-- makes every session reload it).
DO $$
DECLARE
    private CONSTANT text[] := ARRAY['incident_contacts', 'users', 'api_keys',
                                     'submission_attempts', 'staff_sessions',
                                     'sign_in_failures', 'account_events', 'notifications',
                                     'inbound_messages', 'inbound_photos'];
    rel record;
    may_read boolean;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sesizari_reader') THEN
        RETURN;
    END IF;
    FOR rel IN
        SELECT c.relname
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')
          AND pg_has_role(c.relowner, 'USAGE')
    LOOP
        may_read := has_table_privilege('sesizari_reader', format('%I', rel.relname), 'SELECT');
        IF rel.relname = ANY (private) OR rel.relname LIKE '\_yoyo%' OR rel.relname LIKE 'yoyo%' THEN
            IF may_read THEN
                EXECUTE format('REVOKE ALL ON %I FROM sesizari_reader', rel.relname);
            END IF;
        ELSIF NOT may_read THEN
            EXECUTE format('GRANT SELECT ON %I TO sesizari_reader', rel.relname);
        END IF;
    END LOOP;
END
$$;
