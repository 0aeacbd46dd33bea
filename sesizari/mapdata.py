"""Map layers computed in PostGIS, so the browser receives aggregates, not raw points.

Hexagons are built with ``ST_HexagonGrid`` in Stereo70 (EPSG:3844, metres)
and returned in EPSG:4326 as coordinate rings for a pydeck PolygonLayer: at
most a few thousand cells per city whatever the number of incidents.
"""

from __future__ import annotations

import json

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

_HEX_SQL = sa.text(
    """
    WITH city AS (
        SELECT city_id, ST_Transform(boundary, 3844) AS boundary FROM cities WHERE slug = :city
    ), pts AS (
        SELECT ST_Transform(i.geom, 3844) AS g
        FROM incidents i JOIN city USING (city_id)
    ), grid AS (
        SELECT h.geom FROM city, ST_HexagonGrid(:size, city.boundary) AS h
        WHERE ST_Intersects(h.geom, city.boundary)
    )
    SELECT ST_AsGeoJSON(ST_Transform(grid.geom, 4326), 6) AS geojson, count(*) AS incidents
    FROM grid JOIN pts ON ST_Intersects(grid.geom, pts.g)
    GROUP BY grid.geom
    """
)


def incident_hexagons(engine: Engine, city: str, size_m: float = 250.0) -> pd.DataFrame:
    """Incident counts per hexagon of ``size_m`` metres: columns ``polygon``, ``incidents``."""
    with engine.connect() as conn:
        rows = conn.execute(_HEX_SQL, {"city": city, "size": size_m}).all()
    return pd.DataFrame(
        {
            "polygon": [json.loads(r.geojson)["coordinates"][0] for r in rows],
            "incidents": [int(r.incidents) for r in rows],
        }
    )


def city_view(engine: Engine, city: str) -> dict[str, float]:
    """Centre and a zoom that shows the town: the initial view of every map."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT ST_X(c) AS lon, ST_Y(c) AS lat FROM (SELECT ST_Centroid(ST_Collect(geom))"
                " AS c FROM incidents JOIN cities USING (city_id) WHERE slug = :city) s"
            ),
            {"city": city},
        ).one()
        if row.lon is None:
            row = conn.execute(
                sa.text(
                    "SELECT ST_X(ST_Centroid(boundary)) AS lon, ST_Y(ST_Centroid(boundary)) AS lat"
                    " FROM cities WHERE slug = :city"
                ),
                {"city": city},
            ).one()
    return {"longitude": float(row.lon), "latitude": float(row.lat), "zoom": 12.5}


def city_options(engine: Engine) -> pd.DataFrame:
    """Cities for the selector: ``slug``, ``name_ro``, ``name_en``."""
    with engine.connect() as conn:
        return pd.read_sql(
            sa.text("SELECT slug, name_ro, name_en FROM cities ORDER BY name_ro"), conn
        )
