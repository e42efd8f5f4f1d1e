"""Docs that cannot drift: the README's settings table, CLI reference and commands."""

from __future__ import annotations

from pathlib import Path

import click

from monitor.cli import cli
from monitor.settings import settings_markdown

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text("utf-8")


def _commands(group: click.Group, prefix: str = "imon"):
    for name, cmd in group.commands.items():
        path = f"{prefix} {name}"
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, path)
        else:
            yield path, cmd


def test_readme_settings_table_is_the_registry():
    assert settings_markdown() in README, "regenerate the README table with `imon config doc`"


def test_every_command_has_help_and_is_in_the_readme():
    for path, cmd in _commands(cli):
        assert cmd.help and len(cmd.help) > 20, path
        if cmd.hidden:  # a group's default command is documented as the group taking its arguments
            path = path.rsplit(" ", 1)[0] + " PATH"
        assert f"`{path}" in README, f"{path} is missing from the README's command table"


def test_readme_shows_the_two_commands():
    assert "make demo" in README and "make test" in README
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    assert "make test" in ci
    assert "make lint" in ci and ci.index("make lint") < ci.rindex("make test"), "CI lints before it tests"
    lint = (ROOT / "Makefile").read_text("utf-8").split("\nlint:", 1)[1].split("\n\n", 1)[0]
    assert "ruff check" in lint and "mypy monitor forecasting collectors" in lint


def test_changelog_has_an_unreleased_section():
    assert "## Unreleased" in (ROOT / "CHANGELOG.md").read_text("utf-8")


def test_architecture_doc_names_every_stage_and_layer():
    from monitor.pipeline import STAGES

    doc = (ROOT / "docs" / "architecture.md").read_text("utf-8")
    for name, func in STAGES.items():
        assert f"`{name}`" in doc and f"`{func.__name__}`" in doc, name
    for layer in ("core", "store", "indicators", "ingest", "stages", "entries"):
        assert f"| {layer} |" in doc, layer
    assert "docs/architecture.md" in README
