"""docs/configuration.md is generated from the settings models and must never drift from them."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import Field
from typer.testing import CliRunner

from publisher import configdoc
from publisher.channels.kinds import FeedSettings
from publisher.cli import app
from publisher.config import NewsroomSettings


def test_the_configuration_document_matches_the_settings_models() -> None:
    # On failure: run `publisher config-docs` and commit docs/configuration.md.
    assert configdoc.DOC.read_text(encoding="utf-8") == configdoc.render()


def test_every_key_of_every_settings_file_is_in_the_document() -> None:
    text = configdoc.render()
    for model in (NewsroomSettings, FeedSettings):
        for name in model.model_fields:
            shown = "url" if name == "database_url" else name
            assert f"| `{shown}` |" in text, name
    assert "`[[review.stages]]`" in text and '`[cadence]` kind = "weekly"' in text
    assert "| `quiet_hours` | list of string | `[]` |" in text  # a list, as the README once said otherwise


def test_a_field_added_to_a_model_changes_the_document(monkeypatch: pytest.MonkeyPatch) -> None:
    before = configdoc.render()

    class Wider(FeedSettings):
        summary_length: int = Field(default=120, ge=10)  # characters of the summary each item carries

    wider = dict(configdoc.kind_settings(), feed=Wider)
    monkeypatch.setattr("publisher.configdoc.kind_settings", lambda: wider)
    after = configdoc.render()
    assert after != before
    assert (
        "| `summary_length` | integer, ≥ 10 | `120` | characters of the summary each item carries |" in after
    )


def test_config_docs_check_fails_on_a_stale_document(tmp_path: Path) -> None:
    stale = tmp_path / "configuration.md"
    stale.write_text("# old\n", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(app, ["config-docs", "--check", "-o", str(stale)])
    assert result.exit_code == 1 and "publisher config-docs" in result.stderr
    assert runner.invoke(app, ["config-docs", "-o", str(stale)]).exit_code == 0
    assert runner.invoke(app, ["config-docs", "--check", "-o", str(stale)]).exit_code == 0
