"""Every setting is documented in .env.example; bad values get a clear error."""

from __future__ import annotations

import pytest

from sesizari.settings import SETTINGS_DOC, load_settings, mask_url
from tests.conftest import REPO


def test_env_example_documents_every_setting():
    text = (REPO / ".env.example").read_text()
    for name in SETTINGS_DOC:
        assert f"{name}=" in text, f"{name} missing from .env.example"


def test_bad_integer_is_named():
    with pytest.raises(ValueError, match="SESIZARI_PG_PORT"):
        load_settings({"SESIZARI_PG_PORT": "five"})


def test_mask_url():
    assert mask_url("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"
    assert mask_url("postgresql://u@h/db") == "postgresql://u@h/db"


def test_bad_mail_security_is_named():
    with pytest.raises(ValueError, match="SESIZARI_SMTP_SECURITY must be one of starttls, ssl"):
        load_settings({"SESIZARI_SMTP_SECURITY": "tls"})
    assert load_settings({"SESIZARI_SMTP_SECURITY": "SSL"}).smtp_security == "ssl"
    assert load_settings({"SESIZARI_PUBLIC_URL": "https://x.ro/"}).public_url == "https://x.ro"
