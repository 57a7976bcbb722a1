"""Settings: declared once, documented in config/default.toml, overridable from the environment."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from archive.settings import SETTINGS, SettingsError, load_settings

DEFAULT_TOML = Path(__file__).resolve().parent.parent / "config" / "default.toml"


def test_default_toml_documents_every_setting_with_its_default() -> None:
    text = DEFAULT_TOML.read_text(encoding="utf-8")
    documented = tomllib.loads(text)
    assert set(documented) == {s.name for s in SETTINGS}
    for setting in SETTINGS:
        assert documented[setting.name] == setting.default, setting.name
        # a comment precedes every setting
        before = text.split(f"\n{setting.name} = ", 1)[0].rstrip().splitlines()[-1]
        assert before.startswith("# "), f"{setting.name} has no comment"


def test_environment_overrides_defaults() -> None:
    values = load_settings(environ={"CROSSINGS_PER_PAGE": "50", "CROSSINGS_DATA": "/tmp/x",
                                    "CROSSINGS_FFPROBE_TIMEOUT": "2.5"})
    assert values["per_page"] == 50
    assert values["data"] == "/tmp/x"
    assert values["ffprobe_timeout"] == 2.5


def test_config_file_then_environment(tmp_path: Path) -> None:
    config = tmp_path / "crossings.toml"
    config.write_text('per_page = 12\ndefault_access = "restricted"\n')
    values = load_settings(environ={"CROSSINGS_CONFIG": str(config), "CROSSINGS_PER_PAGE": "30"})
    assert values["default_access"] == "restricted"
    assert values["per_page"] == 30


def test_bad_values_name_the_setting(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="CROSSINGS_PER_PAGE.*per_page"):
        load_settings(environ={"CROSSINGS_PER_PAGE": "lots"})
    config = tmp_path / "bad.toml"
    config.write_text("no_such_setting = 1\n")
    with pytest.raises(SettingsError, match="unknown setting 'no_such_setting'"):
        load_settings(environ={"CROSSINGS_CONFIG": str(config)})


def test_a_renamed_setting_is_read_under_its_new_name(tmp_path: Path) -> None:
    config = tmp_path / "crossings.toml"
    config.write_text("job_stale_seconds = 90\n")  # the name before job leases
    assert load_settings(environ={"CROSSINGS_CONFIG": str(config)})["job_lease_seconds"] == 90
    assert load_settings(environ={"CROSSINGS_JOB_STALE_SECONDS": "45"})["job_lease_seconds"] == 45
    assert load_settings(environ={"CROSSINGS_JOB_STALE_SECONDS": "45",
                                  "CROSSINGS_JOB_LEASE_SECONDS": "60"})["job_lease_seconds"] == 60
    assert load_settings({"job_stale_seconds": 30})["job_lease_seconds"] == 30
