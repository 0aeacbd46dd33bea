"""The bench's browserless Streamlit client (`bench/streamlit_client.py`) speaks the protocol.

It measures the dashboard's server in ``bench/capacity.py``; if a Streamlit
upgrade changed the protocol, the figure would be wrong rather than missing.
"""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from bench.streamlit_client import StreamlitSession
from tests.browser_support import serve


def test_a_session_renders_the_live_map_and_changes_a_filter(pg_cluster, demo_database,
                                                           demo_engine):
    async def visit(base: str):
        client = StreamlitSession(base, "city=lugoj")
        try:
            first = await client.open()
            changed = await client.choose(first, "Categorii")
        finally:
            await client.close()
        return first, changed

    with serve(pg_cluster.url(demo_database), "streamlit-client") as base:
        first, changed = asyncio.run(visit(base))
    assert first.status == changed.status == "FINISHED_SUCCESSFULLY"
    assert first.elements["deck_gl_json_chart"] >= 1 and first.bytes > 10_000
    with demo_engine.connect() as conn:
        open_now = conn.execute(sa.text(
            "SELECT count(*) FROM incidents JOIN cities USING (city_id) WHERE slug = 'lugoj'"
            " AND status IN ('new', 'acknowledged', 'in_progress')"
        )).scalar_one()  # fmt: skip
    label = "Deschise acum"
    assert first.metrics[label] == f"{open_now:,}".replace(",", ".")
    # One category only: fewer open incidents, as the server computed them.
    assert int(changed.metrics[label].replace(".", "")) < open_now
