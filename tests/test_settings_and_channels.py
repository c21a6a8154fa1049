"""publisher.toml and channels/*.toml: validated with the file and field named."""

from __future__ import annotations

from pathlib import Path

import pytest

from publisher.channels.registry import load_channels
from publisher.config import load_settings
from publisher.errors import ConfigError
from tests.factory import REPO


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "field", "says"),
    [
        ('kind = "website"\n[settings]\nbase_url = "https://x"\n', "title", "required key is missing"),
        ('kind = "fax"\ntitle = "传真"\n', "kind", "未知渠道类型"),
        (
            'kind = "website"\ntitle = "网站"\n[settings]\nbase_url = "ftp://x"\n',
            "settings.base_url",
            "does not match the expected form",
        ),
        (
            'kind = "website"\ntitle = "网站"\n[settings]\nbase_url = "https://x"\ncolour = "red"\n',
            "settings.colour",
            "unknown key 'colour'",
        ),
        (
            'kind = "wechat"\ntitle = "公众号"\n[settings]\napp_id = "wx"\napp_secret_env = "plain secret"\n',
            "settings.app_secret_env",
            "does not match the expected form",
        ),
        (
            'kind = "website"\ntitle = "网站"\nbogus = 1\n[settings]\nbase_url = "https://x"\n',
            "bogus",
            "未知的键 / unknown key 'bogus'",
        ),
    ],
)
def test_channel_file_problems_name_the_field(tmp_path: Path, text: str, field: str, says: str) -> None:
    write(tmp_path / "channels", "thing.toml", text)
    found = load_channels(tmp_path / "channels", tmp_path)
    assert found.channels == {}
    assert [(p.file, p.field) for p in found.problems] == [("channels/thing.toml", field)]
    assert says in found.problems[0].reason


def test_channel_toml_syntax_error_has_a_line(tmp_path: Path) -> None:
    write(tmp_path / "channels", "site.toml", 'kind = "website"\ntitle = \n')
    found = load_channels(tmp_path / "channels", tmp_path)
    assert found.problems[0].line == 2 and "TOML" in found.problems[0].reason


def test_channel_file_name_must_be_an_ascii_id(tmp_path: Path) -> None:
    write(
        tmp_path / "channels",
        "门户.toml",
        'kind = "website"\ntitle = "网站"\n[settings]\nbase_url = "https://x"\n',
    )
    found = load_channels(tmp_path / "channels", tmp_path)
    assert found.channels == {} and "ASCII" in found.problems[0].reason


def test_one_broken_channel_does_not_hide_the_others(tmp_path: Path) -> None:
    for name in ("website", "site-feed", "wechat"):
        write(
            tmp_path / "channels",
            f"{name}.toml",
            (REPO / "channels" / f"{name}.toml").read_text(encoding="utf-8"),
        )
    write(tmp_path / "channels", "broken.toml", "kind = [")
    found = load_channels(tmp_path / "channels", tmp_path)
    assert set(found.channels) == {"website", "site-feed", "wechat"}
    assert [p.file for p in found.problems] == ["channels/broken.toml"]


def test_settings_problems_are_reported_together(tmp_path: Path) -> None:
    write(
        tmp_path,
        "publisher.toml",
        '[newsroom]\nname = ""\ntimezone = "Nowhere/City"\n[[columns]]\nkey = "Bad Key"\nname = "栏目"\n',
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path)
    fields = {p.field for p in caught.value.problems}
    assert {"newsroom.name", "newsroom.timezone", "columns.0.key", "departments"} <= fields


def test_settings_toml_syntax_error_has_a_line(tmp_path: Path) -> None:
    write(tmp_path, "publisher.toml", '[newsroom]\nname = "x"\nname = "y"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path)
    assert caught.value.problems[0].line == 3


def test_environment_overrides_only_the_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "publisher.toml", (REPO / "publisher.toml").read_text(encoding="utf-8"))
    monkeypatch.setenv("PUBLISHER_DATABASE_URL", "sqlite:////tmp/elsewhere.db")
    monkeypatch.setenv("PUBLISHER_NEWSROOM", str(tmp_path))
    settings = load_settings(tmp_path)
    assert settings.database_url == "sqlite:////tmp/elsewhere.db"
    assert settings.newsroom.name == "江澜人大"
    assert str(settings.tz) == "Asia/Shanghai"


def test_missing_settings_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"publisher\.toml"):
        load_settings(tmp_path)
