"""Grid DBSCAN: the dense cells of a square grid, joined into clusters.

The classic grid approximation of DBSCAN with distance ``eps``: incidents
are counted in square cells of side eps / sqrt(2), so any two incidents of
one cell are within eps of each other, and a cell holding at least
``min_points`` incidents holds only DBSCAN core points.  Such core cells
touching each other (8 neighbours) form one cluster; a sparser cell next to
a core cell joins it as border (when several touch it, the first in
:data:`NEIGHBOURS` order: west to east, then south to north).  It never
calls noise a core, but it may join two groups that exact DBSCAN keeps apart
by less than a cell, and it leaves out isolated core points of sparse cells.

Pure computation over numpy arrays: the query layer
(:func:`sesizari.queries.maps.clusters`) reads the cells' rows from PostGIS
and names and draws the clusters there.  Done here rather than in SQL
because every step is one vectorised pass over arrays, where PostgreSQL
spent a hash table per step on a whole city's 170,000 rollup rows (see
bench/RESULTS.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

#: The 8 neighbours of a cell as (dx, dy), in the order a border cell picks
#: the cluster it joins.
NEIGHBOURS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))

#: Cell keys put the row above the column: sorted keys are sorted by (cy, cx).
_OFFSET = np.int64(1 << 31)


def cell_key(cy: np.ndarray, cx: np.ndarray) -> np.ndarray:
    """One int64 per cell, ordered as (cy, cx) (both int32 values)."""
    return (np.asarray(cy, np.int64) << 32) + (np.asarray(cx, np.int64) + _OFFSET)


def split_key(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(cy, cx) of :func:`cell_key` values."""
    key = np.asarray(key, np.int64)
    return key >> 32, (key & 0xFFFFFFFF) - _OFFSET


@dataclass(frozen=True)
class GridClusters:
    """Clusters 0..k-1 of :func:`grid_clusters`, one value per cluster.

    ``category`` and ``district`` are ids (district 0: none of the cluster's
    incidents lies in a district).  The hull of cluster ``c`` is that of the
    corners of its rows' end cells: ``ends_cluster == c`` selects rows
    ``ends_cy`` spanning cells ``ends_x0`` to ``ends_x1 - 1``.
    """

    n: np.ndarray
    n_open: np.ndarray
    x: np.ndarray
    y: np.ndarray
    category: np.ndarray
    district: np.ndarray
    ends_cluster: np.ndarray
    ends_cy: np.ndarray
    ends_x0: np.ndarray
    ends_x1: np.ndarray

    def __len__(self) -> int:
        return len(self.n)


def _find(sorted_keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Index of each wanted key in ``sorted_keys``, or -1."""
    if not len(sorted_keys):
        return np.full(len(wanted), -1, np.int64)
    pos = np.searchsorted(sorted_keys, wanted)
    pos = np.minimum(pos, len(sorted_keys) - 1)
    return np.where(sorted_keys[pos] == wanted, pos, -1)


def _cells(cy: np.ndarray, cx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct cells in (cy, cx) order, and the cell of each row.

    Through a table of the selection's bounding box when it is not much
    larger than the rows (a town at the dashboard's distances): linear in
    the rows, where sorting them (``np.unique``) took 16 of 60 ms for
    200,000 incidents.
    """
    if not len(cy):
        empty = np.empty(0, np.int64)
        return empty, empty, empty
    y0, x0 = int(cy.min()), int(cx.min())
    height, width = int(cy.max()) - y0 + 1, int(cx.max()) - x0 + 1
    if height * width > 4 * len(cy) + (1 << 16):
        cells, row_cell = np.unique(cell_key(cy, cx), return_inverse=True)
        ccy, ccx = split_key(cells)
        return ccy, ccx, row_cell.ravel()
    flat = (cy - y0) * width + (cx - x0)
    present = np.zeros(height * width, bool)
    present[flat] = True
    where = np.flatnonzero(present)
    number = np.cumsum(present) - 1
    return where // width + y0, where % width + x0, number[flat]


def _rank(order: np.ndarray, value: np.ndarray) -> np.ndarray:
    """The position of each value (an id, >= 0) in ``order``, or
    ``len(order)`` when not listed."""
    top = max(int(order.max()), int(value.max()) if len(value) else 0)
    if top < 4 * len(value) + (1 << 20):  # ids are serials: a lookup table
        table = np.full(top + 1, len(order), np.int64)
        table[order] = np.arange(len(order))
        return table[value]
    sorter = np.argsort(order, kind="stable")
    found = np.minimum(np.searchsorted(order, value, sorter=sorter), len(order) - 1)
    return np.where(order[sorter[found]] == value, sorter[found], len(order))


def _dominant(
    cluster: np.ndarray, value: np.ndarray, weight: np.ndarray, k: int, order: np.ndarray
) -> np.ndarray:
    """Per cluster (0..k-1; k: in none), the value (an id listed in
    ``order``) with the largest weight; ties go to the first in ``order``;
    0 when none has weight."""
    order = np.asarray(order, np.int64)
    if not len(order) or not k:
        return np.zeros(k, np.int64)
    width = len(order) + 1  # the last column: ids not listed
    totals = np.bincount(
        cluster * width + _rank(order, value), weights=weight, minlength=(k + 1) * width
    ).reshape(k + 1, width)[:k, :-1]
    best = totals.argmax(axis=1)  # the first maximum: the first in order
    return np.where(totals[np.arange(k), best] > 0, order[best], 0)


def grid_clusters(
    cy: np.ndarray,
    cx: np.ndarray,
    category: np.ndarray,
    district: np.ndarray,
    n: np.ndarray,
    n_open: np.ndarray,
    sx: np.ndarray,
    sy: np.ndarray,
    min_points: int,
    category_order: np.ndarray,
    district_order: np.ndarray,
) -> GridClusters:
    """Cluster rows of counts per cell (several rows may share a cell).

    Parameters
    ----------
    cy, cx:
        The cell of each row: its row and column in the grid.
    category, district:
        Ids of the row's category and district (0: in no district).
    n, n_open:
        Incidents of the row, and how many of them are open.
    sx, sy:
        Sums of their coordinates, in the grid's metric CRS.
    min_points:
        Incidents a cell needs to be a core cell.
    category_order, district_order:
        The ids in their tie-breaking order (by code, by name).  District 0
        and ids not listed never win.
    """
    n = np.asarray(n, np.int64)
    cy, cx, row_cell = _cells(np.asarray(cy, np.int64), np.asarray(cx, np.int64))
    cells = cell_key(cy, cx)
    cell_n = np.bincount(row_cell, weights=n, minlength=len(cells))

    # Core cells, joined through their 8 neighbours (each pair found once).
    core = np.flatnonzero(cell_n >= min_points)
    core_keys = cells[core]
    here, there = [], []
    for dx, dy in ((1, -1), (1, 0), (1, 1), (0, 1)):
        j = _find(core_keys, cell_key(cy[core] + dy, cx[core] + dx))
        here.append(np.flatnonzero(j >= 0))
        there.append(j[j >= 0])
    i, j = np.concatenate(here), np.concatenate(there)
    m = len(core)
    graph = coo_matrix((np.ones(len(i), np.int8), (i, j)), shape=(m, m))
    k, core_label = connected_components(graph, directed=False) if m else (0, np.empty(0, int))

    label = np.full(len(cells), -1, np.int64)
    label[core] = core_label
    # Border cells: the first core neighbour in NEIGHBOURS order.
    sparse = np.flatnonzero(cell_n < min_points)
    for dx, dy in NEIGHBOURS:
        todo = sparse[label[sparse] < 0]
        if not len(todo):
            break
        j = _find(core_keys, cell_key(cy[todo] + dy, cx[todo] + dx))
        label[todo[j >= 0]] = core_label[j[j >= 0]]

    member = np.flatnonzero(label >= 0)
    mlabel = label[member]
    # Each row's cluster, k for rows in none: sums over every row, the
    # extra bin dropped, cost less than selecting the members' rows first.
    row_label = np.where(label >= 0, label, k)[row_cell]
    total = np.bincount(mlabel, weights=cell_n[member], minlength=k)

    def per_cluster(values: np.ndarray) -> np.ndarray:
        return np.bincount(row_label, weights=values, minlength=k + 1)[:k]

    # Row ends of each cluster's cells, for its hull.
    order = np.lexsort((cx[member], cy[member], mlabel))
    lab_s, cy_s, cx_s = mlabel[order], cy[member][order], cx[member][order]
    start = np.ones(len(order), bool)
    start[1:] = (lab_s[1:] != lab_s[:-1]) | (cy_s[1:] != cy_s[:-1])
    first = np.flatnonzero(start)
    last = np.append(first[1:] - 1, len(order) - 1).astype(np.int64) if len(first) else first

    with np.errstate(invalid="ignore", divide="ignore"):
        return GridClusters(
            n=total.astype(np.int64),
            n_open=per_cluster(n_open).astype(np.int64),
            x=per_cluster(sx) / total,
            y=per_cluster(sy) / total,
            category=_dominant(row_label, np.asarray(category, np.int64), n, k, category_order),
            district=_dominant(row_label, np.asarray(district, np.int64), n, k, district_order),
            ends_cluster=lab_s[first],
            ends_cy=cy_s[first],
            ends_x0=cx_s[first],
            ends_x1=cx_s[last] + 1,
        )  # fmt: skip
