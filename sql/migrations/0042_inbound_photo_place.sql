-- 0042 Where an e-mailed picture was taken, for the dispatcher.
--
-- A citizen's e-mail rarely says where the problem is, but the phone that
-- took the picture often recorded it (EXIF GPS).  The import reads it
-- before the picture is cleaned (the stored copy keeps no GPS) and keeps it
-- here, with the message, for the desk to put on its map as a proposal;
-- like the rest of the message, it is removed once the message is filed or
-- set aside.  The readers' login cannot read this table (post-apply.sql).
ALTER TABLE inbound_messages
    ADD COLUMN photo_lat double precision CHECK (photo_lat BETWEEN -90 AND 90),
    ADD COLUMN photo_lon double precision CHECK (photo_lon BETWEEN -180 AND 180),
    ADD CHECK ((photo_lat IS NULL) = (photo_lon IS NULL)),
    -- gone with the sender and the words once the message is handled
    ADD CHECK (status = 'pending' OR photo_lat IS NULL);
