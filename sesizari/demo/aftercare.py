"""What happens to demo incidents after they are filed: forwards, reporters'
verdicts on fixes, problems that come back, and the estimates promised.

Without these the Accountability page of the demo is a page of zeros: no
report forwarded to another institution, no fix confirmed or disputed, no
place where a problem returns, no estimate to calibrate.  Each step follows
the rule the live code applies (:mod:`sesizari.accountability`,
:mod:`sesizari.commitments`), so the demo shows what a city would see:

* a report the city cannot solve is **forwarded** (half of the turned-down
  ones), a while after it was acknowledged; a forward after the 5-day term
  counts as late on the page, as it would live;
* a reporter who left contact details **confirms** a third of the fixes and
  **disputes** one in twenty, within the verification window; a dispute
  reopens the incident (``disputed`` then ``reopened`` events) and the
  department fixes it again later, or has not yet;
* three incidents in a hundred are filed within a few metres of an earlier
  fix of the same category, within the recurrence window: the load links
  them with the live rule (:func:`sesizari.commitments.mark_recurrences`);
* every incident carries the p50/p80 resolution hours of its category over
  the 90 days before it (the category's target with fewer than
  :data:`~sesizari.commitments.MIN_HISTORY` fixes), as registration
  computes them, without the backlog factor.

Pure functions of a seeded generator, like :mod:`sesizari.demo.generate`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon

from sesizari.commitments import DEFAULTS, MIN_HISTORY
from sesizari.demo.reference import CATEGORIES, DEPARTMENTS
from sesizari.demo.units import CLOSE_AFTER, M_PER_DEG, as_naive, as_utc

#: Where a department sends what is not the city's to solve.
INSTITUTIONS = {
    "roads": "Compania Națională de Administrare a Infrastructurii Rutiere",
    "sanitation": "Garda Națională de Mediu",
    "water": "Operatorul regional de apă și canalizare",
    "lighting": "Distribuție Energie Electrică România",
    "police": "Inspectoratul de Poliție Județean",
    "green": "Direcția Silvică",
    "traffic": "Serviciul Rutier al Inspectoratului de Poliție Județean",
    "urbanism": "Inspectoratul de Stat în Construcții",
}
#: What a reporter writes when the fix did not hold (staff-only, event data).
DISPUTES = (
    "Problema a reapărut după două zile.",
    "Nu s-a rezolvat, am fost azi la fața locului.",
    "S-a lucrat doar pe jumătate.",
)
FORWARD_SHARE = 0.5  # of the turned-down reports
CONFIRM_SHARE = 0.33  # of the fixes whose reporter left contact details
DISPUTE_SHARE = 0.05
RECURRENCE_SHARE = 0.03


def forwards(rng: np.random.Generator, inc: pd.DataFrame, now: np.datetime64) -> pd.DataFrame:
    """Half the turned-down reports go to the institution that must solve them.

    Some time after they were acknowledged (a median of two days: someone
    finds out whose the problem is), so that some leave after the term.
    """
    n = len(inc)
    rejected = (inc["status"] == "rejected").to_numpy()
    sent = rejected & (rng.random(n) < FORWARD_SHARE)
    ack_at = as_naive(inc["acknowledged_at"])
    delay = (np.exp(np.log(48.0) + rng.normal(size=n)) * 3600e6).astype("timedelta64[us]")
    at = np.where(ack_at + delay <= now, ack_at + delay, ack_at)
    out = inc.copy()
    out["forwarded_to"] = np.where(sent, inc["department"].map(INSTITUTIONS), None)
    out["forwarded_at"] = as_utc(np.where(sent, at, np.datetime64("NaT", "us")))
    return out


def verdicts(
    rng: np.random.Generator, inc: pd.DataFrame, has_contact: np.ndarray, now: np.datetime64
) -> pd.DataFrame:
    """Reporters confirm or dispute fixes; a dispute reopens, a second fix may follow.

    Adds ``confirmed_at``, ``disputed_at``, ``dispute_text`` and, for the
    disputed, ``first_resolved_at`` / ``first_resolution_text`` (the fix that
    did not hold); ``resolved_at``, ``closed_at``, ``status`` and
    ``resolution_text`` become those after the dispute.
    """
    n = len(inc)
    fixed = inc["status"].isin(["resolved", "closed"]).to_numpy() & has_contact
    draw = rng.random(n)
    disputed = fixed & (draw < DISPUTE_SHARE)
    confirmed = fixed & ~disputed & (draw < DISPUTE_SHARE + CONFIRM_SHARE)
    fix_at = as_naive(inc["resolved_at"])
    window = np.timedelta64(DEFAULTS["verification_days"], "D")
    # A verdict comes while the fix is known to the reporter: a dispute before the
    # three-day close, a confirmation within the verification window, never after now.
    since_fix = np.where(fixed, now - fix_at, np.timedelta64(0, "us"))
    dispute_at = fix_at + (rng.uniform(0.1, 0.9, n) * np.minimum(since_fix, CLOSE_AFTER)).astype(
        "timedelta64[us]"
    )
    confirm_at = fix_at + (rng.uniform(0.05, 0.95, n) * np.minimum(since_fix, window)).astype(
        "timedelta64[us]"
    )
    dep = {d.code: d for d in DEPARTMENTS}
    fix_med = inc["department"].map(lambda c: dep[c].fix_median_h).to_numpy(dtype=float)
    fix_sig = inc["department"].map(lambda c: dep[c].fix_sigma).to_numpy(dtype=float)
    redo_h = np.exp(np.log(fix_med / 2) + fix_sig * rng.normal(size=n))
    refix_at = dispute_at + (redo_h * 3600e6).astype("timedelta64[us]")
    refixed = disputed & (refix_at <= now)
    reclosed = refixed & (refix_at + CLOSE_AFTER <= now)

    out = inc.copy()
    nat = np.datetime64("NaT", "us")
    out["confirmed_at"] = as_utc(np.where(confirmed, confirm_at, nat))
    out["disputed_at"] = as_utc(np.where(disputed, dispute_at, nat))
    texts = np.array(DISPUTES, dtype=object)[rng.integers(0, len(DISPUTES), n)]
    out["dispute_text"] = np.where(disputed, texts, None)
    out["first_resolved_at"] = as_utc(np.where(disputed, fix_at, nat))
    out["first_resolution_text"] = np.where(disputed, inc["resolution_text"], None)
    out["resolved_at"] = as_utc(np.where(disputed, np.where(refixed, refix_at, nat), fix_at))
    closed_at = as_naive(inc["closed_at"])
    out["closed_at"] = as_utc(
        np.where(disputed, np.where(reclosed, refix_at + CLOSE_AFTER, nat), closed_at)
    )
    status = inc["status"].to_numpy(dtype=object).copy()
    status[disputed] = np.where(
        reclosed[disputed], "closed", np.where(refixed[disputed], "resolved", "acknowledged")
    )
    out["status"] = status
    out["resolution_text"] = np.where(disputed & ~refixed, None, inc["resolution_text"])
    return out


def recurrences(
    rng: np.random.Generator,
    inc: pd.DataFrame,
    city: MultiPolygon,
    districts: dict[str, MultiPolygon],
) -> pd.DataFrame:
    """Move a few incidents within metres of an earlier fix of their category.

    The earlier fix ended within the recurrence window before the report, so
    the live rule finds it; the load links them.  A point that would leave
    the city stays where it was.
    """
    days = np.timedelta64(DEFAULTS["recurrence_days"], "D")
    created = as_naive(inc["created_at"])
    fixed_at = as_naive(inc["resolved_at"])
    done = inc["status"].isin(["resolved", "closed"]).to_numpy()
    chosen = rng.random(len(inc)) < RECURRENCE_SHARE
    pick = rng.random(len(inc))
    angle = rng.uniform(0, 2 * np.pi, len(inc))
    radius = rng.uniform(2.0, 0.6 * DEFAULTS["recurrence_m"], len(inc))
    lon, lat = inc["lon"].to_numpy(dtype=float).copy(), inc["lat"].to_numpy(dtype=float).copy()
    moved = np.zeros(len(inc), dtype=bool)
    categories = inc["category"].to_numpy()
    for code in np.unique(categories):
        earlier = np.flatnonzero((categories == code) & done)
        earlier = earlier[np.argsort(fixed_at[earlier], kind="stable")]
        times = fixed_at[earlier]
        mine = np.flatnonzero((categories == code) & chosen)
        lo = np.searchsorted(times, created[mine] - days, side="left")
        hi = np.searchsorted(times, created[mine], side="right")
        has = hi > lo
        mine, lo, hi = mine[has], lo[has], hi[has]
        source = earlier[lo + (pick[mine] * (hi - lo)).astype(int)]
        # A source that moves itself would no longer be where its repeat is.
        keep = (source != mine) & ~chosen[source]
        mine, source = mine[keep], source[keep]
        lat[mine] = lat[source] + radius[mine] * np.sin(angle[mine]) / M_PER_DEG
        lon[mine] = lon[source] + radius[mine] * np.cos(angle[mine]) / (
            M_PER_DEG * np.cos(np.radians(lat[source]))
        )
        moved[mine] = True
    inside = shapely.contains_xy(city, lon, lat)
    moved &= inside
    out = inc.copy()
    out.loc[moved, "lon"] = lon[moved].round(7)
    out.loc[moved, "lat"] = lat[moved].round(7)
    district = out["district"].to_numpy(dtype=object).copy()
    district[moved] = ""
    for name, geom in districts.items():
        here = moved & (district == "") & shapely.contains_xy(geom, lon, lat)
        district[here] = name
    # A point between the districts' edges keeps its old district rather than none.
    district[moved & (district == "")] = inc["district"].to_numpy(dtype=object)[
        moved & (district == "")
    ]
    out["district"] = district
    return out


def estimates(inc: pd.DataFrame) -> pd.DataFrame:
    """p50/p80 hours to resolve of the category's fixes in the 90 days before each report.

    Read from the fixes up to the last one before the report (a rolling
    window, so that a million incidents take seconds); the category's target
    where fewer than :data:`MIN_HISTORY` fixes fall in it.
    """
    window = f"{DEFAULTS['estimate_days']}D"
    targets = {c.code: c.target_hours for c in CATEGORIES}
    done = inc[inc["status"].isin(["resolved", "closed"]) & inc["resolved_at"].notna()]
    history = pd.DataFrame(
        {
            "category": done["category"],
            "at": done["resolved_at"],
            "hours": (done["resolved_at"] - done["created_at"]).dt.total_seconds() / 3600,
        }
    ).sort_values("at", kind="stable")
    empty = {"category": [], "at": history["at"].iloc[:0], "p50": [], "p80": [], "n": []}
    parts = [pd.DataFrame(empty)]
    for code, rows in history.groupby("category", sort=True):
        rolling = rows.set_index("at")["hours"].rolling(window)
        parts.append(
            pd.DataFrame(
                {
                    "category": code,
                    "at": rows["at"].to_numpy(),
                    "p50": rolling.quantile(0.5).to_numpy(),
                    "p80": rolling.quantile(0.8).to_numpy(),
                    "n": rolling.count().to_numpy(),
                }
            )
        )
    table = pd.concat(parts, ignore_index=True).sort_values("at", kind="stable")
    table["at"] = table["at"].astype(inc["created_at"].dtype)
    left = pd.DataFrame(
        {"row": np.arange(len(inc)), "category": inc["category"], "at": inc["created_at"]}
    ).sort_values("at", kind="stable")
    table["category"] = table["category"].astype(left["category"].dtype)
    joined = pd.merge_asof(left, table, on="at", by="category", direction="backward")
    joined = joined.sort_values("row")
    history_ok = joined["n"].fillna(0).to_numpy() >= MIN_HISTORY
    target = inc["category"].map(targets).to_numpy(dtype=float)
    p50 = np.where(history_ok, joined["p50"].to_numpy(dtype=float), target)
    p80 = np.where(history_ok, joined["p80"].to_numpy(dtype=float), target)
    # numeric(10, 2) > 0, rounded up to the hundredth, as commitments._hours
    p50 = np.maximum(0.01, np.ceil(p50 * 100) / 100)
    p80 = np.maximum(p50, np.maximum(0.01, np.ceil(p80 * 100) / 100))
    out = inc.copy()
    out["expected_hours_p50"] = p50
    out["expected_hours_p80"] = p80
    out["expected_basis"] = np.where(history_ok, "history", "target")
    return out


def apply(
    rng: np.random.Generator,
    inc: pd.DataFrame,
    has_contact: np.ndarray,
    now: np.datetime64,
    city: MultiPolygon,
    districts: dict[str, MultiPolygon],
) -> pd.DataFrame:
    """All of the above, in the order they happen; ``updated_at`` follows."""
    out = forwards(rng, inc, now)
    out = verdicts(rng, out, has_contact, now)
    out = recurrences(rng, out, city, districts)
    out = estimates(out)
    out["owes_reply"] = has_contact
    out["updated_at"] = out[
        ["created_at", "acknowledged_at", "resolved_at", "closed_at", "disputed_at", "forwarded_at"]
    ].max(axis=1)
    return out
