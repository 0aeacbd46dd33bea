-- 0039 The language a reporter wrote in, for the e-mails they receive.
--
-- Messages to a reporter were written in Romanian then English.  A report
-- made on the English page now gets English only, one made on the
-- Romanian page Romanian only; NULL (the dispatcher's desk, an app that
-- does not say, reports from before) keeps both.  It is not a contact
-- detail: it goes with the contact row because only a contact is written to.
ALTER TABLE incident_contacts
    ADD COLUMN lang text CHECK (lang IN ('ro', 'en'));
