"""The settings registry: defaults, file, environment, command line; clear errors."""

from __future__ import annotations

import pytest

from monitor.exceptions import ConfigError
from monitor.settings import SETTINGS, load_settings, mask_url


def test_defaults_run_without_any_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = load_settings(environ={})
    assert s["demo.enterprises"] == 1200
    assert s["language"] == "zh"
    assert s.store_url == f"sqlite:///{tmp_path / 'var' / 'imon.sqlite'}"
    assert s.outputs_dir == tmp_path / "var" / "outputs"
    assert set(s.sources.values()) == {"default"}


def test_precedence_default_file_environment_command_line(tmp_path):
    cfg = tmp_path / "imon.toml"
    cfg.write_text('data_dir = "/srv/imon"\n[store]\nurl = "sqlite:///file.sqlite"\n[demo]\nseed = 5\n', "utf-8")
    s = load_settings(cfg, environ={})
    assert (s["demo.seed"], s["store.url"], s["data_dir"]) == (5, "sqlite:///file.sqlite", "/srv/imon")
    assert s.sources["demo.seed"] == str(cfg)
    s = load_settings(cfg, environ={"IMON_DATABASE_URL": "postgresql+psycopg://u:pw@db/imon"})
    assert s["store.url"] == "postgresql+psycopg://u:pw@db/imon"
    assert s.sources["store.url"] == "IMON_DATABASE_URL"
    s = load_settings(cfg, environ={}, overrides={"demo.seed": "9", "demo.end": None})
    assert s["demo.seed"] == 9 and s.sources["demo.seed"] == "command line"


def test_config_path_from_environment(tmp_path):
    cfg = tmp_path / "elsewhere.toml"
    cfg.write_text("language = 'en'\n", "utf-8")
    assert load_settings(environ={"IMON_CONFIG": str(cfg)})["language"] == "en"


def test_only_declared_settings_read_the_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = load_settings(environ={"IMON_DEMO_SEED": "3", "IMON_LANGUAGE": "en"})
    assert s["demo.seed"] == 2017 and s["language"] == "zh"


@pytest.mark.parametrize(("text", "message"), [
    ("[demo\nseed = 1", "is not valid TOML"),
    ("[demo]\nsed = 1", "unknown setting 'demo.sed'; did you mean 'demo.seed'"),
    ("[demo]\nseed = 'many'", "'demo.seed' = 'many' is invalid"),
    ("[demo]\nenterprises = 5", "below its minimum 20"),
    ("language = 'fr'", "expected one of zh, en"),
    ("[demo]\nstart = '2017-13'", "YYYY-MM"),
    ("[compute]\nbreakdowns = 'district,county'", "not county"),
])
def test_bad_config_files_name_file_key_and_fix(tmp_path, text, message):
    cfg = tmp_path / "imon.toml"
    cfg.write_text(text, "utf-8")
    with pytest.raises(ConfigError, match=message) as err:
        load_settings(cfg, environ={})
    assert str(cfg) in str(err.value)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", environ={})


def test_secrets_are_masked():
    assert mask_url("postgresql+psycopg://imon:s3cr%40t@db:5432/imon") == "postgresql+psycopg://imon:***@db:5432/imon"
    assert mask_url("sqlite:///var/imon.sqlite") == "sqlite:///var/imon.sqlite"
    s = load_settings(environ={"IMON_DATABASE_URL": "postgresql+psycopg://imon:hunter2@db/imon"})
    shown = dict((k, v) for k, v, _ in s.display())
    assert "hunter2" not in shown["store.url"] and "***" in shown["store.url"]


def test_every_setting_has_help_and_a_parsable_default():
    for setting in SETTINGS:
        assert setting.help.endswith(".") and len(setting.help) > 15, setting.key
        assert setting.convert(setting.default, "default") == setting.default
