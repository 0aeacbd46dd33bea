-- 0030 The rate limiter's clean-up reads its old rows by an index.
--
-- Every counted submission deletes the attempts older than a day, of every
-- city and client (sesizari/intake.py: the salted hashes are kept no
-- longer).  With Open311 apps now counted there too (a budget per API key),
-- that table holds up to a day of a busy city's submissions; without an
-- index on the time, each submission read all of it.
CREATE INDEX submission_attempts_created_at_idx ON submission_attempts (created_at);
