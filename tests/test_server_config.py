"""The dashboard server's configuration (``.streamlit/config.toml``) as the pages meet it."""

from __future__ import annotations

import ast
import tomllib

from streamlit.testing.v1 import AppTest

from dashboard import widgets
from sesizari import photos
from tests.conftest import REPO
from tests.test_layers import _files


def test_uploads_are_capped_at_the_photo_limit_before_they_reach_memory():
    """Streamlit holds an upload in memory before any page code sees it, and
    its default cap is 200 MB a file.  The server's cap is the photo limit,
    and every uploader announces it (its own text said "200MB per file")."""
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] * 1024 * 1024 == photos.MAX_UPLOAD_BYTES
    assert widgets.UPLOAD_MB * 1024 * 1024 == photos.MAX_UPLOAD_BYTES
    # One uploader for the whole dashboard (widgets.uploader), with the cap;
    # the pages call it, not Streamlit's, whose words are English only.
    raw = []
    uploaders = 0
    for path in _files("dashboard"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            called = ast.unparse(node.func)
            if called.endswith("file_uploader"):
                raw.append(f"{path.name}:{node.lineno}")
                limits = [k for k in node.keywords if k.arg == "max_upload_size"]
                assert limits, f"{path}:{node.lineno}: a file_uploader without max_upload_size"
                assert ast.unparse(limits[0].value) == "UPLOAD_MB", path
            uploaders += called == "widgets.uploader"
    assert [where.split(":")[0] for where in raw] == ["widgets.py"], raw
    assert uploaders >= 3


def test_a_bug_s_details_stay_in_the_server_s_log():
    """An unexpected error shows the reader that something went wrong, not the
    traceback with its paths, code and values (Streamlit's default)."""
    at = AppTest.from_string("raise RuntimeError('password=hunter2 at /srv/sesizari/app.py')")
    at.run()
    assert at.exception, "the error was not shown at all"
    shown = " ".join([e.message for e in at.exception] + [str(e.stack_trace) for e in at.exception])
    assert "hunter2" not in shown and "/srv/" not in shown and "RuntimeError" not in shown
