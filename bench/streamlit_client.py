"""A Streamlit session without a browser: the dashboard's server measured on its own.

``bench/capacity.py`` drives real Chromium sessions, which is what a user
sees, but on one 2-core machine ten headless browsers drawing deck.gl in
software take most of the CPU, so they measure the browsers as much as the
server.  A city's users run their browsers on their own machines.  This
client speaks Streamlit's own WebSocket protocol (the protobuf messages of
``streamlit.proto``, as the browser does) at almost no CPU cost: it asks for
a page, receives every element the script sends, and says when the run
finished.  It then changes a multiselect, as a click in the sidebar does.

What it leaves out is the browser's share: downloading Streamlit's static
files (hashed names, cached after the first visit) and drawing the page.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

#: Largest message the dashboard may send (the map's layers are a few hundred KB).
MAX_MESSAGE = 64 * 1024 * 1024


@dataclass
class Run:
    """What one script run sent: its elements by kind, and how long it took."""

    seconds: float
    elements: dict[str, int] = field(default_factory=dict)
    bytes: int = 0
    multiselects: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    metrics: dict[str, str] = field(default_factory=dict)
    status: str = ""


class StreamlitSession:
    """One session on a running Streamlit server, opened with :meth:`open`."""

    def __init__(self, base_url: str, query_string: str) -> None:
        self.url = base_url.replace("http://", "ws://", 1).rstrip("/") + "/_stcore/stream"
        self.query_string = query_string
        self.ws = None

    async def open(self) -> Run:
        """Connect and run the page: the server's part of a first render."""
        t0 = time.monotonic()
        self.ws = await websockets.connect(
            self.url, subprotocols=["streamlit"], max_size=MAX_MESSAGE, open_timeout=120
        )
        return await self._run(BackMsg(), t0)

    async def choose(self, run: Run, label: str, index: int = 0) -> Run:
        """Pick option ``index`` of the multiselect labelled ``label``: a filter change."""
        widget_id, options = run.multiselects[label]
        msg = BackMsg()
        state = msg.rerun_script.widget_states.widgets.add()
        state.id = widget_id
        state.string_array_value.data.append(options[index])
        return await self._run(msg, time.monotonic())

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    async def _run(self, msg: BackMsg, t0: float) -> Run:
        msg.rerun_script.query_string = self.query_string
        await self.ws.send(msg.SerializeToString())
        run = Run(seconds=0.0)
        while True:
            raw = await self.ws.recv()
            run.bytes += len(raw)
            fwd = ForwardMsg()
            fwd.ParseFromString(raw)
            kind = fwd.WhichOneof("type")
            if kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                element = fwd.delta.new_element
                name = element.WhichOneof("type") or "?"
                run.elements[name] = run.elements.get(name, 0) + 1
                if name == "multiselect":
                    ms = element.multiselect
                    run.multiselects[ms.label] = (ms.id, list(ms.options))
                if name == "metric":
                    run.metrics[element.metric.label] = element.metric.body
                if name == "exception":
                    raise RuntimeError(f"the page raised: {element.exception.message}")
            elif kind == "script_finished":
                status = ForwardMsg.ScriptFinishedStatus.Name(fwd.script_finished)
                if status == "FINISHED_EARLY_FOR_RERUN":
                    continue  # the app reran itself (st.rerun): wait for that run
                run.status = status
                run.seconds = time.monotonic() - t0
                return run
