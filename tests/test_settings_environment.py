"""The environment outranks publisher.toml for the database, and for nothing else: the rule that
pydantic-settings kept before config.py read the one variable itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from publisher.config import NewsroomSettings, load_settings
from tests.factory import REPO

FILE_URL = "sqlite:////tmp/from-the-file.db"
ENV_URL = "sqlite:////tmp/from-the-environment.db"


def newsroom_with_database_url(folder: Path) -> Path:
    text = (REPO / "publisher.toml").read_text(encoding="utf-8")
    text = text.replace("[database]\n", f'[database]\nurl = "{FILE_URL}"\n', 1)
    (folder / "publisher.toml").write_text(text, encoding="utf-8")
    return folder


def test_the_file_names_the_database_when_the_environment_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PUBLISHER_DATABASE_URL", raising=False)
    assert load_settings(newsroom_with_database_url(tmp_path)).database_url == FILE_URL


@pytest.mark.parametrize("name", ["PUBLISHER_DATABASE_URL", "publisher_database_url"])
def test_the_environment_database_url_outranks_the_files_in_any_case(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.delenv("PUBLISHER_DATABASE_URL", raising=False)
    monkeypatch.setenv(name, ENV_URL)
    assert load_settings(newsroom_with_database_url(tmp_path)).database_url == ENV_URL


def test_settings_built_in_code_take_the_environment_database_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PUBLISHER_DATABASE_URL", raising=False)
    settings = load_settings(newsroom_with_database_url(tmp_path))
    monkeypatch.setenv("PUBLISHER_DATABASE_URL", ENV_URL)
    assert NewsroomSettings(**settings.model_dump()).database_url == ENV_URL


def test_no_other_setting_is_read_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUBLISHER_DEPARTMENTS", '["环境里的部门"]')
    monkeypatch.setenv("PUBLISHER_NEWSROOM", str(tmp_path))
    settings = load_settings(newsroom_with_database_url(tmp_path))
    assert "环境里的部门" not in settings.departments
    assert settings.newsroom.name == "江澜人大"
