"""Units and time columns shared by the demo's generator and its aftercare."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Metres in a degree of latitude (and of longitude at the equator).
M_PER_DEG = 111_320.0
#: A fixed incident is closed this long after its fix, unless someone objects.
CLOSE_AFTER = np.timedelta64(72, "h")


def as_utc(values: np.ndarray) -> pd.Series:
    """Naive-UTC datetime64 values (NaT allowed) as a tz-aware UTC column."""
    return pd.Series(pd.DatetimeIndex(values).tz_localize("UTC"))


def as_naive(column: pd.Series) -> np.ndarray:
    """A tz-aware UTC column as naive-UTC datetime64[us] values (NaT kept): its inverse."""
    return column.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().astype("datetime64[us]")
