"""Every command of `python -m sesizari` and `python -m etl` answers `--help`
with what it does, whole, in paragraphs that fill the terminal's width."""

from __future__ import annotations

import re

import pytest
import typer
import typer.main
from typer.core import TyperGroup
from typer.testing import CliRunner

from etl.cli import app as etl_app
from sesizari.cli import app

APPS = {"sesizari": app, "etl": etl_app}
#: Wide enough that no paragraph of a help text needs more than one line.
WIDE = {"COLUMNS": "400"}


def _commands(group: TyperGroup, path: list[str]) -> list[list[str]]:
    found = [path]
    for name, command in group.commands.items():
        if isinstance(command, TyperGroup):
            found += _commands(command, [*path, name])
        else:
            found.append([*path, name])
    return found


def _command(root: TyperGroup, path: list[str]):
    command = root
    for name in path:
        command = command.commands[name]
    return command


def _flat(text: str) -> str:
    """Words as written or shown: no box drawing, Markdown's backticks or line breaks."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text.replace("`", "")).split())


def test_every_command_has_help():
    root = typer.main.get_command(app)
    commands = _commands(root, [])
    assert ["backup", "restore"] in commands and len(commands) > 25
    runner = CliRunner()
    for path in commands:
        done = runner.invoke(app, [*path, "--help"])
        assert done.exit_code == 0, (path, done.output)
        assert "Usage:" in done.output, path
        assert (_command(root, path).help or "").strip(), f"{' '.join(path)} has no help text"


@pytest.mark.parametrize("name", list(APPS))
def test_help_shows_every_word_written(name: str):
    """Help texts are rendered as Markdown, which drops what looks like a tag
    (``SESIZARI_IMAP_PASSWORD_<SLUG>`` showed as ``SESIZARI_IMAP_PASSWORD_``):
    every word of a command's text and of its options' texts is on its page."""
    cli = APPS[name]
    root = typer.main.get_command(cli)
    runner = CliRunner()
    for path in _commands(root, []):
        command = _command(root, path)
        shown = _flat(runner.invoke(cli, [*path, "--help"], env=WIDE).output)
        texts = [command.help or ""] + [p.help or "" for p in command.params]
        for text in texts:
            for word in _flat(text.split("\f")[0]).split():
                assert word in shown, f"{name} {' '.join(path)} --help: {word!r} is not shown"


@pytest.mark.parametrize("name", list(APPS))
def test_a_command_s_summary_is_one_paragraph_not_its_source_lines(name: str):
    """A docstring's lines are joined: on a wide terminal, each command's
    first paragraph stands on one line of its group's list (it was cut where
    the source line ended)."""
    cli = APPS[name]
    root = typer.main.get_command(cli)
    runner = CliRunner()
    checked = 0
    for path in _commands(root, []):
        group = _command(root, path)
        if not isinstance(group, TyperGroup):
            continue
        lines = [_flat(line) for line in runner.invoke(cli, [*path, "--help"], env=WIDE)
                 .output.splitlines()]  # fmt: skip
        for sub_name, sub in group.commands.items():
            summary = _flat((sub.help or "").split("\n\n")[0])
            if "\n" in (sub.help or "").split("\n\n")[0].strip():
                checked += 1
            assert any(summary in line for line in lines), (
                f"{name} {' '.join([*path, sub_name])}: {summary!r} is not on one line"
            )
    assert checked > 0  # some summaries do span source lines
