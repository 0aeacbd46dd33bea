"""Pure spatial computation: GeoDataFrames in, GeoDataFrames out, no I/O."""
