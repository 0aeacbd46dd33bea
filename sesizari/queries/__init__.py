"""The analytics query layer: every number the dashboard shows comes from here.

Each function takes an SQLAlchemy Engine (or Connection) and a frozen
:class:`Filters`, runs parameterised SQL over the same filtered incident set,
and returns a DataFrame or GeoDataFrame.  No UI code: pages only lay out what
these functions return, so figures are tested once, here.
"""

from sesizari.queries.accountability import (
    estimate_calibration,
    legal_deadlines,
    recurrence_places,
    recurrence_rates,
    verification_breakdown,
)
from sesizari.queries.departments import department_overdue, department_performance
from sesizari.queries.filters import SAMPLE_RATE, Filters
from sesizari.queries.hotspots import hotspot_summary, hotspots_gi
from sesizari.queries.maps import (
    DASHBOARD_CLUSTER_EPS_M,
    EXACT_CLUSTER_LIMIT,
    city_boundary,
    clusters,
    count_incidents,
    district_boundaries,
    districts_geojson,
    hexagons,
    points,
)
from sesizari.queries.overview import daily_trend, kpis
from sesizari.queries.reference import (
    categories,
    cities,
    city_view,
    departments,
    district_names,
)
from sesizari.queries.resolution import (
    EXACT_PERCENTILE_LIMIT,
    backlog_ageing,
    district_medians,
    partial_weeks,
    resolution_distribution,
    resolution_stats,
    share_within_target,
    weekly_trend,
)

__all__ = [
    "DASHBOARD_CLUSTER_EPS_M",
    "EXACT_CLUSTER_LIMIT",
    "EXACT_PERCENTILE_LIMIT",
    "SAMPLE_RATE",
    "Filters",
    "backlog_ageing",
    "categories",
    "cities",
    "city_boundary",
    "city_view",
    "clusters",
    "count_incidents",
    "daily_trend",
    "department_overdue",
    "department_performance",
    "departments",
    "district_boundaries",
    "district_medians",
    "district_names",
    "districts_geojson",
    "estimate_calibration",
    "hexagons",
    "hotspot_summary",
    "hotspots_gi",
    "kpis",
    "legal_deadlines",
    "partial_weeks",
    "points",
    "recurrence_places",
    "recurrence_rates",
    "resolution_distribution",
    "resolution_stats",
    "share_within_target",
    "verification_breakdown",
    "weekly_trend",
]
