"""Feeds into the incidents table: CSV, spreadsheets, GeoJSON,
GeoPackage/Shapefile, Open311 servers.

Rows stream in batches through a TEMP staging table, are checked and
transformed set-wise in PostGIS, and are upserted by (city, source,
external id); every refused row is kept in ``feed_rejects`` with its reason.

Where things are:

- ``cli``: the command line (``python -m etl``);
- ``mapping``: a mapping file read and checked;
- ``readers``, ``spreadsheets``, ``open311``, ``download``: a source as
  batches of raw rows;
- ``preflight``: what is checked before any row is read;
- ``load``: one run, batch by batch, in two database sessions;
- ``sql``: the statements ``load`` runs;
- ``messages``: the reject messages, in English and Romanian;
- ``rejects``: a run's rejects as a CSV file, and their raw values' retention;
- ``runs``: the recorded runs, read back.
"""
