"""Draw demo incidents as DataFrames: pure functions, deterministic by seed.

Realism the dashboard needs to show something true-looking:

* hotspots (a few dense spots per city, each with its own category mix) over
  a diffuse background around the town centre, all inside the real boundary;
* weekly and daily rhythm (fewer reports at night and at weekends), seasons
  per category (potholes after winter, street lights in long nights), and a
  slow growth as the service becomes known;
* log-normal times to acknowledge and resolve that differ by department,
  some incidents stuck (never resolved: the overdue backlog), some rejected
  and some duplicates;
* what follows a report, from :mod:`sesizari.demo.aftercare`: forwards,
  reporters' confirmations and disputes, problems that come back, and the
  estimates promised at registration.

Nothing here touches the database; :mod:`sesizari.demo.load` writes the frames.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Point, shape

from sesizari.accountability import REOPENED_BY_DISPUTE
from sesizari.commitments import DEFAULTS
from sesizari.demo import aftercare
from sesizari.demo.reference import (
    CATEGORIES,
    CHANNELS,
    CITIES,
    DEPARTMENTS,
    DESCRIPTIONS,
    FIRST_NAMES,
    LAST_NAMES,
    RESOLUTIONS,
    CitySpec,
)
from sesizari.demo.units import CLOSE_AFTER, M_PER_DEG, as_utc
from sesizari.settings import REPO_ROOT

BOUNDARIES = REPO_ROOT / "data" / "cities" / "lugoj_alba_iulia.geojson"
TIMEZONE = "Europe/Bucharest"
HISTORY_DAYS = 548  # 18 months


def boundary(spec: CitySpec, path: Path = BOUNDARIES) -> MultiPolygon:
    """The city's real administrative boundary as a MultiPolygon (EPSG:4326)."""
    for feature in json.loads(path.read_text())["features"]:
        if feature["properties"]["name"] == spec.uat_name:
            geom = shape(feature["geometry"])
            return geom if isinstance(geom, MultiPolygon) else MultiPolygon([geom])
    raise KeyError(f"{spec.uat_name} not in {path}")


def _offset(center: tuple[float, float], dx_m: np.ndarray, dy_m: np.ndarray) -> tuple:
    lon0, lat0 = center
    return (
        lon0 + dx_m / (M_PER_DEG * math.cos(math.radians(lat0))),
        lat0 + dy_m / M_PER_DEG,
    )


def districts(spec: CitySpec, city_boundary: MultiPolygon) -> dict[str, MultiPolygon]:
    """Approximate districts: a central disc of 900 m and four sectors around it."""
    lon0, lat0 = spec.center
    angles = np.linspace(0, 2 * math.pi, 65)
    ring = _offset(spec.center, 900 * np.cos(angles), 900 * np.sin(angles))
    centre = shapely.Polygon(list(zip(*ring, strict=True))).intersection(city_boundary)
    rest = city_boundary.difference(centre)
    big = 0.5  # degrees: far beyond any town
    sectors = {
        "Nord": [(lon0, lat0), (lon0 - big, lat0 + big), (lon0 + big, lat0 + big)],
        "Est": [(lon0, lat0), (lon0 + big, lat0 + big), (lon0 + big, lat0 - big)],
        "Sud": [(lon0, lat0), (lon0 + big, lat0 - big), (lon0 - big, lat0 - big)],
        "Vest": [(lon0, lat0), (lon0 - big, lat0 - big), (lon0 - big, lat0 + big)],
    }
    out = {"Centru": centre}
    for name, tri in sectors.items():
        out[name] = rest.intersection(shapely.Polygon(tri))
    result = {}
    for name, geom in out.items():
        polys = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, shapely.Polygon)]
        result[name] = shapely.make_valid(MultiPolygon(polys)) if polys else MultiPolygon()
        if not isinstance(result[name], MultiPolygon):
            parts = [
                g
                for g in getattr(result[name], "geoms", [result[name]])
                if isinstance(g, shapely.Polygon)
            ]
            result[name] = MultiPolygon(parts)
    return result


def heritage_zone(spec: CitySpec) -> MultiPolygon:
    """A small zone around the centre used by the demo's area routing rule (~500 m)."""
    return MultiPolygon([Point(spec.center).buffer(0.0055, quad_segs=8)])


@dataclass(frozen=True)
class DemoCity:
    """Everything generated for one city."""

    spec: CitySpec
    boundary: MultiPolygon
    districts: dict[str, MultiPolygon]
    incidents: pd.DataFrame
    contacts: pd.DataFrame
    events: pd.DataFrame


def _points(rng: np.random.Generator, spec: CitySpec, poly: MultiPolygon, n: int) -> tuple:
    """n points: 40% in hotspots (sigma 60-160 m), the rest around the centre (sigma 1.3 km)."""
    n_hot = 8
    hot_r = rng.uniform(200, 2600, n_hot)
    hot_a = rng.uniform(0, 2 * math.pi, n_hot)
    hot_x, hot_y = hot_r * np.cos(hot_a), hot_r * np.sin(hot_a)
    hot_sigma = rng.uniform(60, 160, n_hot)
    lon = np.empty(0)
    lat = np.empty(0)
    hot_id = np.empty(0, dtype=np.int64)
    while len(lon) < n:
        m = int((n - len(lon)) * 1.3) + 16
        which = rng.integers(0, n_hot, m)
        in_hot = rng.random(m) < 0.4
        dx = np.where(
            in_hot, hot_x[which] + rng.normal(0, 1, m) * hot_sigma[which], rng.normal(0, 1300, m)
        )
        dy = np.where(
            in_hot, hot_y[which] + rng.normal(0, 1, m) * hot_sigma[which], rng.normal(0, 1100, m)
        )
        x, y = _offset(spec.center, dx, dy)
        ok = shapely.contains_xy(poly, x, y)
        lon = np.concatenate([lon, x[ok]])
        lat = np.concatenate([lat, y[ok]])
        hot_id = np.concatenate([hot_id, np.where(in_hot, which, -1)[ok]])
    return lon[:n], lat[:n], hot_id[:n]


def _times(
    rng: np.random.Generator, season: np.ndarray, start: np.datetime64, n: int
) -> np.ndarray:
    """n sorted creation times (naive UTC) with daily/weekly rhythm, the season and growth."""
    hour_w = np.array(
        [
            0.15,
            0.1,
            0.08,
            0.08,
            0.1,
            0.2,
            0.45,
            0.8,
            1.0,
            1.0,
            1.0,
            0.95,
            0.9,
            0.9,
            0.9,
            0.85,
            0.85,
            0.8,
            0.75,
            0.7,
            0.6,
            0.45,
            0.3,
            0.2,
        ]
    )
    dow_w = np.array([1.0, 1.0, 0.98, 0.97, 0.92, 0.6, 0.5])
    span_s = HISTORY_DAYS * 86400
    out: list[np.ndarray] = []
    have = 0
    while have < n:
        m = 3 * (n - have) + 16
        offs = rng.uniform(0, span_s, m)
        at = start + (offs * 1e6).astype("timedelta64[us]")
        local = pd.DatetimeIndex(at).tz_localize("UTC").tz_convert(TIMEZONE)
        p = (
            hour_w[local.hour.to_numpy()]
            * dow_w[local.day_of_week.to_numpy()]
            * season[local.month.to_numpy() - 1]
            * (0.65 + 0.35 * offs / span_s)
        ) / season.max()
        keep = rng.random(m) < p
        out.append(at[keep])
        have += int(keep.sum())
    return np.sort(np.concatenate(out)[:n])


def generate_city(spec: CitySpec, n: int, seed: int, as_of: datetime) -> DemoCity:
    """All demo rows of one city; same (spec, n, seed, as_of) -> same frames."""
    rng = np.random.default_rng([seed, CITIES.index(spec)])
    poly = boundary(spec)
    end = pd.Timestamp(as_of)
    end = (end.tz_convert("UTC") if end.tzinfo else end.tz_localize("UTC")).tz_localize(None)
    now = end.to_datetime64().astype("datetime64[us]")
    start = now - np.timedelta64(HISTORY_DAYS, "D")

    weights = np.array([c.weight for c in CATEGORIES])
    cat_idx = rng.choice(len(CATEGORIES), size=n, p=weights / weights.sum())
    created = np.empty(n, dtype="datetime64[us]")
    for i, cat in enumerate(CATEGORIES):
        mask = cat_idx == i
        if mask.any():
            created[mask] = _times(rng, np.array(cat.season), start, int(mask.sum()))
    order = np.argsort(created, kind="stable")
    cat_idx, created = cat_idx[order], created[order]

    lon, lat, _hot = _points(rng, spec, poly, n)
    dists = districts(spec, poly)
    district = np.full(n, "", dtype=object)
    for name, geom in dists.items():
        inside = shapely.contains_xy(geom, lon, lat) & (district == "")
        district[inside] = name

    dep_by_code = {d.code: d for d in DEPARTMENTS}
    cats = [CATEGORIES[i] for i in cat_idx]
    dep = [dep_by_code[c.department] for c in cats]
    ack_med = np.array([d.ack_median_h for d in dep])
    fix_med = np.array([d.fix_median_h for d in dep])
    fix_sig = np.array([d.fix_sigma for d in dep])
    ack_h = np.exp(np.log(ack_med) + 1.0 * rng.normal(size=n))
    fix_h = ack_h + np.exp(np.log(fix_med) + fix_sig * rng.normal(size=n))
    outcome = rng.random(n)
    stuck = outcome < 0.05
    rejected = (outcome >= 0.05) & (outcome < 0.09)
    duplicate = (outcome >= 0.09) & (outcome < 0.11)

    ack_at = created + (ack_h * 3600e6).astype("timedelta64[us]")
    fix_at = created + (fix_h * 3600e6).astype("timedelta64[us]")
    close_at = fix_at + CLOSE_AFTER
    acked = ack_at <= now
    fixed = acked & ~stuck & ~rejected & ~duplicate & (fix_at <= now)
    closed = fixed & (close_at <= now)
    status = np.full(n, "new", dtype=object)
    status[acked] = np.where(rng.random(int(acked.sum())) < 0.5, "acknowledged", "in_progress")
    status[acked & rejected] = "rejected"
    status[acked & duplicate] = "duplicate"
    status[fixed] = "resolved"
    status[closed] = "closed"

    cat_codes = np.array([c.code for c in cats], dtype=object)
    # A duplicate points to the previous incident of its category (an earlier report).
    prev_same = pd.Series(np.arange(n)).groupby(cat_codes).shift(1).to_numpy()
    is_dup = (status == "duplicate") & ~np.isnan(prev_same)
    status[(status == "duplicate") & ~is_dup] = "rejected"
    dup_of = np.where(is_dup, prev_same, np.nan)

    year = pd.DatetimeIndex(created).tz_localize("UTC").tz_convert(TIMEZONE).year.to_numpy()
    seq = pd.Series(np.ones(n, dtype=np.int64)).groupby(year).cumsum().to_numpy()
    numbers = [f"{spec.prefix}-{y:04d}-{s:06d}" for y, s in zip(year, seq, strict=True)]

    desc_pick = rng.integers(0, 1000, n)
    descriptions = [
        DESCRIPTIONS[c][k % len(DESCRIPTIONS[c])] for c, k in zip(cat_codes, desc_pick, strict=True)
    ]
    streets = np.array(spec.streets, dtype=object)[rng.integers(0, len(spec.streets), n)]
    house = rng.integers(1, 120, n)
    channels, cw = zip(*CHANNELS, strict=True)
    channel = np.array(channels, dtype=object)[rng.choice(len(channels), size=n, p=np.array(cw))]

    has_fix = np.isin(status, ["resolved", "closed"])
    incidents = pd.DataFrame(
        {
            "local_id": np.arange(n),
            "registry_number": numbers,
            "year": year,
            "seq": seq,
            "category": cat_codes,
            "department": np.array([d.code for d in dep], dtype=object),
            "district": district,
            "status": status,
            "channel": channel,
            "lon": lon.round(7),
            "lat": lat.round(7),
            "address": [f"{s} nr. {h}" for s, h in zip(streets, house, strict=True)],
            "description": descriptions,
            "created_at": as_utc(created),
            "acknowledged_at": as_utc(np.where(acked, ack_at, np.datetime64("NaT"))),
            "resolved_at": as_utc(np.where(has_fix, fix_at, np.datetime64("NaT"))),
            "closed_at": as_utc(np.where(closed, close_at, np.datetime64("NaT"))),
            "resolution_text": np.where(
                has_fix, np.array([RESOLUTIONS[c] for c in cat_codes], dtype=object), None
            ),
            "duplicate_of_local": pd.array(dup_of, dtype="Int64"),
        }
    )
    incidents["updated_at"] = incidents[
        ["created_at", "acknowledged_at", "resolved_at", "closed_at"]
    ].max(axis=1)

    has_contact = rng.random(n) < 0.6
    k = int(has_contact.sum())
    first = np.array(FIRST_NAMES, dtype=object)[rng.integers(0, len(FIRST_NAMES), k)]
    last = np.array(LAST_NAMES, dtype=object)[rng.integers(0, len(LAST_NAMES), k)]
    phone = [f"07{d:08d}" for d in rng.integers(0, 10**8, k)]
    contacts = pd.DataFrame(
        {
            "local_id": np.flatnonzero(has_contact),
            "name": [f"{a} {b}" for a, b in zip(first, last, strict=True)],
            "phone": phone,
            "email": [
                f"{a.lower()}.{b.lower()}{i}@example.ro"
                for i, (a, b) in enumerate(zip(first, last, strict=True))
            ],
            "consent_at": incidents["created_at"].to_numpy()[has_contact],
        }
    )
    ascii_email = contacts["email"].str.normalize("NFKD").str.encode("ascii", "ignore")
    contacts["email"] = ascii_email.str.decode("ascii")
    # A stream of its own, so that what came before stays as it was drawn.
    later = np.random.default_rng([seed, CITIES.index(spec), 1])
    incidents = aftercare.apply(later, incidents, has_contact, now, poly, dists)
    events = build_events(incidents)
    return DemoCity(spec, poly, dists, incidents, contacts, events)


def build_events(incidents: pd.DataFrame) -> pd.DataFrame:
    """The history rows implied by each incident's timestamps and status.

    In the order they happen; rows at the same instant (a dispute and the
    reopening it causes) keep the order they are added in.
    """
    frames = []

    def add(
        mask: pd.Series,
        kind: str,
        at: str,
        frm: str | None,
        to: str | None,
        body=None,
        data=None,
    ) -> None:
        sub = incidents.loc[mask, ["local_id", at]].rename(columns={at: "created_at"})
        sub["kind"], sub["from_status"], sub["to_status"] = kind, frm, to
        sub["body"] = body if body is None or isinstance(body, str) else body[mask].to_numpy()
        sub["data"] = "{}" if data is None else data[mask].to_numpy()
        frames.append(sub)

    st = incidents["status"]
    acked = incidents["acknowledged_at"].notna()
    add(pd.Series(True, index=incidents.index), "created", "created_at", None, "new")
    add(
        acked & st.isin(["acknowledged", "resolved", "closed"]),
        "acknowledged",
        "acknowledged_at",
        "new",
        "acknowledged",
    )
    add(acked & (st == "in_progress"), "started", "acknowledged_at", "new", "in_progress")
    forwarded = incidents["forwarded_to"].notna()
    add(
        (st == "rejected") & ~forwarded,
        "rejected",
        "acknowledged_at",
        "new",
        "rejected",
        "Sesizarea nu intră în competența primăriei.",
    )
    local = incidents["created_at"].dt.tz_convert(TIMEZONE).dt.normalize()
    term_end = local + pd.DateOffset(days=DEFAULTS["forward_days"] + 1)
    late = (incidents["forwarded_at"] >= term_end).to_numpy()
    pairs = zip(incidents["forwarded_to"].to_numpy(), late, strict=True)
    forward_data = pd.Series(
        [json.dumps({"institution": to, "late": bool(x)}) for to, x in pairs], index=incidents.index
    )
    add(forwarded, "acknowledged", "acknowledged_at", "new", "acknowledged")
    add(
        forwarded,
        "forwarded",
        "forwarded_at",
        "acknowledged",
        "rejected",
        incidents["forwarded_to"],
        forward_data,
    )
    add(st == "duplicate", "duplicate", "acknowledged_at", "new", "duplicate")
    disputed = incidents["disputed_at"].notna()
    # The fix that did not hold, the reporter's dispute, and the reopening with it.
    add(
        disputed,
        "resolved",
        "first_resolved_at",
        "acknowledged",
        "resolved",
        incidents["first_resolution_text"],
    )
    add(
        disputed,
        "disputed",
        "disputed_at",
        None,
        None,
        None,
        incidents["dispute_text"].map(lambda text: json.dumps({"text": text})),
    )
    add(
        disputed,
        "reopened",
        "disputed_at",
        "resolved",
        "acknowledged",
        REOPENED_BY_DISPUTE,
    )
    add(
        incidents["resolved_at"].notna(),
        "resolved",
        "resolved_at",
        "acknowledged",
        "resolved",
        incidents["resolution_text"],
    )
    add(incidents["confirmed_at"].notna(), "confirmed", "confirmed_at", None, None)
    add(incidents["closed_at"].notna(), "closed", "closed_at", "resolved", "closed")
    events = pd.concat(frames, ignore_index=True)
    return events.sort_values(["created_at", "local_id"], kind="stable").reset_index(drop=True)


def generate(total: int, seed: int = 42, as_of: datetime | None = None) -> list[DemoCity]:
    """Demo data for every city, ``total`` incidents shared by population."""
    as_of = as_of or (datetime.now().astimezone() - timedelta(minutes=5))
    counts = [round(total * c.share) for c in CITIES]
    counts[-1] = total - sum(counts[:-1])
    return [generate_city(spec, n, seed, as_of) for spec, n in zip(CITIES, counts, strict=True)]
