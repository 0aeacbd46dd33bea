"""gis.grid_dbscan on hand-made grids (the database-backed checks against an
independent labelling are in test_queries_maps.py)."""

from __future__ import annotations

import numpy as np

from gis.grid_dbscan import cell_key, grid_clusters, split_key


def _run(cells: list[tuple[int, int, int, int, int]], min_points: int = 3,
         categories=(1, 2), districts=(1, 2)):
    """cells: (cy, cx, n, category, district) rows, one incident per unit of n
    at the cell's lower-left corner (side 1)."""
    a = np.array(cells, dtype=np.int64).reshape(-1, 5)
    cy, cx, n, cat, dis = a.T
    return grid_clusters(
        cy, cx, cat, dis, n, np.zeros_like(n), cx * n * 1.0, cy * n * 1.0, min_points,
        np.array(categories), np.array(districts),
    )  # fmt: skip


def test_no_rows_no_clusters():
    got = _run([])
    assert len(got) == 0 and len(got.ends_cluster) == 0


def test_touching_core_cells_form_one_cluster_and_a_gap_splits():
    # Two core cells touching at a corner, and one two cells away.
    got = _run([(0, 0, 3, 1, 1), (1, 1, 3, 1, 1), (1, 3, 5, 1, 1)])
    assert sorted(got.n.tolist()) == [5, 6]


def test_a_sparse_cell_joins_the_first_core_neighbour_west_to_east():
    # The sparse cell (0, 1) touches cores at x=0 and x=2: it joins x=0's.
    got = _run([(0, 0, 3, 1, 1), (0, 1, 1, 1, 1), (0, 2, 4, 1, 1)])
    assert sorted(got.n.tolist()) == [4, 4]
    west = int(np.flatnonzero(got.x == min(got.x))[0])
    assert got.n[west] == 4  # 3 + the sparse cell's 1
    # A sparse cell with no core neighbour is noise.
    alone = _run([(0, 0, 3, 1, 1), (5, 5, 2, 1, 1)])
    assert alone.n.tolist() == [3]


def test_ties_go_to_the_first_id_in_order_and_district_0_never_wins():
    # Category 2 listed first: a tie between 1 and 2 goes to 2.
    got = _run([(0, 0, 2, 1, 0), (0, 0, 2, 2, 0)], categories=(2, 1))
    assert got.category.tolist() == [2]
    assert got.district.tolist() == [0]  # all of it outside every district
    got = _run([(0, 0, 5, 1, 0), (0, 0, 1, 1, 2)])
    assert got.district.tolist() == [2]


def test_a_wide_extent_gives_the_same_clusters():
    """Cells far apart take the sorting path instead of the bounding-box table."""
    near = [(0, 0, 3, 1, 1), (0, 1, 3, 2, 1), (1, 1, 1, 1, 2), (4, 4, 3, 2, 2)]
    far = [*near, (90_000, 90_000, 3, 1, 1)]
    a, b = _run(near), _run(far)
    assert len(b) == len(a) + 1
    keep = b.y < 1_000
    for field in ("n", "x", "y", "category", "district"):
        assert sorted(getattr(b, field)[keep].tolist()) == sorted(getattr(a, field).tolist())


def test_large_ids_are_ranked_without_a_lookup_table():
    big = 10**12
    got = _run([(0, 0, 3, big + 7, 1)], categories=(5, big + 7))
    assert got.category.tolist() == [big + 7]


def test_hull_row_ends():
    # Rows y=0: x 0..2 ; y=1: x 1 -> ends (0, 0, 3) and (1, 1, 2).
    got = _run([(0, 0, 3, 1, 1), (0, 1, 3, 1, 1), (0, 2, 3, 1, 1), (1, 1, 3, 1, 1)])
    ends = sorted(zip(got.ends_cy.tolist(), got.ends_x0.tolist(), got.ends_x1.tolist(),
                      strict=True))  # fmt: skip
    assert ends == [(0, 0, 3), (1, 1, 2)]


def test_cell_keys_sort_as_rows_then_columns():
    cy = np.array([-2, -2, 0, 5, 5])
    cx = np.array([-7, 3, -1, -2**31, 2**31 - 1])
    keys = cell_key(cy, cx)
    assert (np.diff(keys) > 0).all()
    back = split_key(keys)
    assert back[0].tolist() == cy.tolist() and back[1].tolist() == cx.tolist()
