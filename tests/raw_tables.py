"""Raw tables read with pandas, for recomputing the query layer's figures independently.

Only plain ``SELECT`` of table columns (and point coordinates) happen in SQL;
every join, filter, bucket and statistic is redone in pandas by the tests.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

TZ = "Europe/Bucharest"
OPEN = ["new", "acknowledged", "in_progress"]


def read(engine: Engine, sql: str, **params: object) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(sa.text(sql), conn, params=params)


def incidents(engine: Engine, slug: str) -> pd.DataFrame:
    """The city's incidents joined in pandas to category, department and district."""
    city = read(engine, "SELECT city_id, timezone FROM cities WHERE slug = :s", s=slug)
    cid = int(city["city_id"].iloc[0])
    inc = read(
        engine,
        "SELECT incident_id, registry_number, category_id, department_id, district_id, status,"
        " created_at, acknowledged_at, resolved_at, ST_X(geom) AS lon, ST_Y(geom) AS lat"
        " FROM incidents WHERE city_id = :c",
        c=cid,
    )
    cats = read(engine, "SELECT * FROM categories WHERE city_id = :c", c=cid)
    deps = read(engine, "SELECT * FROM departments WHERE city_id = :c", c=cid)
    dists = read(engine, "SELECT district_id, name FROM districts WHERE city_id = :c", c=cid)
    cats = cats.rename(
        columns={"code": "category_code", "name_ro": "category_ro", "name_en": "category_en"}
    )[["category_id", "category_code", "category_ro", "category_en", "target_hours", "sensitive"]]
    cats["target_hours"] = cats["target_hours"].astype(float)
    deps = deps.rename(
        columns={"code": "department_code", "name_ro": "department_ro", "name_en": "department_en"}
    )[["department_id", "department_code", "department_ro", "department_en"]]
    dists = dists.rename(columns={"name": "district"})
    out = inc.merge(cats, on="category_id").merge(deps, on="department_id")
    out["district_id"] = out["district_id"].astype("Int64")
    dists["district_id"] = dists["district_id"].astype("Int64")
    out = out.merge(dists, on="district_id", how="left")
    for col in ("created_at", "acknowledged_at", "resolved_at"):
        out[col] = pd.to_datetime(out[col], utc=True)
    out["ack_h"] = (out["acknowledged_at"] - out["created_at"]).dt.total_seconds() / 3600
    out["resolve_h"] = (out["resolved_at"] - out["created_at"]).dt.total_seconds() / 3600
    out["local_created"] = out["created_at"].dt.tz_convert(TZ)
    return out.sort_values("incident_id").reset_index(drop=True)


def status_events(engine: Engine, slug: str) -> pd.DataFrame:
    """Every status-changing event of the city."""
    ev = read(
        engine,
        "SELECT e.event_id, e.incident_id, e.to_status, e.created_at FROM incident_events e"
        " JOIN cities c ON c.city_id = e.city_id WHERE c.slug = :s AND e.to_status IS NOT NULL",
        s=slug,
    )
    ev["created_at"] = pd.to_datetime(ev["created_at"], utc=True)
    return ev


def status_at(events: pd.DataFrame, t: pd.Timestamp) -> pd.Series:
    """incident_id -> status at time t, replaying the events up to t."""
    upto = events[events["created_at"] <= t].sort_values(["incident_id", "created_at", "event_id"])
    return upto.groupby("incident_id")["to_status"].last()
