"""Feeds into the incidents table: CSV, GeoJSON, GeoPackage/Shapefile.

Rows stream in batches through a TEMP staging table, are checked and
transformed set-wise in PostGIS, and are upserted by (city, source,
external id); every refused row is kept in ``feed_rejects`` with its reason.
"""
