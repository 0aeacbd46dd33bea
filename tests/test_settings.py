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


def test_the_settings_file_is_read_under_the_environment(tmp_path, monkeypatch):
    """`.env.example` says to copy it to .env, and the README's cron lines rely
    on it: nothing read it, so a mail server set there was never used."""
    from sesizari import settings as settings_module

    env_file = tmp_path / ".env"
    env_file.write_text(
        "\ufeff# the city's settings\n\nSESIZARI_SMTP_HOST=mail.primarie.ro\n"
        "export SESIZARI_MAIL_FROM=\"Primaria <sesizari@primarie.ro>\"\n"
        "SESIZARI_QUEUE_ROWS='200'\nSESIZARI_DATA_DIR=./date  # beside the code\n"
        "SESIZARI_SMTP_PASSWORD=\"p#w x\"  # the mail password\n", "utf-8")
    monkeypatch.setenv("SESIZARI_ENV_FILE", str(env_file))
    monkeypatch.delenv("SESIZARI_SMTP_HOST", raising=False)
    monkeypatch.delenv("SESIZARI_MAIL_FROM", raising=False)
    monkeypatch.delenv("SESIZARI_DATA_DIR", raising=False)
    monkeypatch.setenv("SESIZARI_QUEUE_ROWS", "300")  # the environment wins
    got = load_settings()
    assert got.smtp_host == "mail.primarie.ro"
    assert got.mail_from == "Primaria <sesizari@primarie.ro>"
    assert got.queue_rows == 300
    assert got.smtp_password == "p#w x"
    # A relative folder is the repository's, wherever the command runs.
    monkeypatch.chdir(tmp_path)
    assert load_settings().data_dir == settings_module.REPO_ROOT / "date"
    env_file.write_text("SESIZARI_SMTP_HOST mail\n", "utf-8")
    with pytest.raises(ValueError, match=r"\.env, line 1: write it as NAME=value"):
        load_settings()
