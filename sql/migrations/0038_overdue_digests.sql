-- 0038 A morning e-mail to each department with the reports past their target.
--
-- A department head tracked what is overdue on the work queue, when they
-- opened it.  `python -m sesizari notify digest` (run each morning) sends
-- each department with a mailbox the list of its open reports past their
-- category's target.  One row per department and local day: the row is
-- written in the transaction that sends, so a second run the same day
-- sends nothing, and a failed send leaves no row (the next run tries
-- again).
CREATE TABLE overdue_digests (
    city_id       integer NOT NULL,
    department_id integer NOT NULL,
    local_day     date NOT NULL,
    incidents     integer NOT NULL CHECK (incidents > 0),
    sent_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (city_id, department_id, local_day),
    FOREIGN KEY (city_id, department_id) REFERENCES departments (city_id, department_id)
);
