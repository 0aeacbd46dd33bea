"""Every command of `python -m sesizari` answers `--help` with what it does."""

from __future__ import annotations

import typer.main
from typer.core import TyperGroup
from typer.testing import CliRunner

from sesizari.cli import app


def _commands(group: TyperGroup, path: list[str]) -> list[list[str]]:
    found = [path]
    for name, command in group.commands.items():
        if isinstance(command, TyperGroup):
            found += _commands(command, [*path, name])
        else:
            found.append([*path, name])
    return found


def test_every_command_has_help():
    root = typer.main.get_command(app)
    commands = _commands(root, [])
    assert ["backup", "restore"] in commands and len(commands) > 25
    runner = CliRunner()
    for path in commands:
        done = runner.invoke(app, [*path, "--help"])
        assert done.exit_code == 0, (path, done.output)
        assert "Usage:" in done.output, path
        command = root
        for name in path:
            command = command.commands[name]
        assert (command.help or "").strip(), f"{' '.join(path)} has no help text"
