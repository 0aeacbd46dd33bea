"""Pure spatial computation: arrays or GeoDataFrames in, the same out, no I/O.

The query layer (``sesizari.queries``) reads from PostGIS and calls these.
"""
