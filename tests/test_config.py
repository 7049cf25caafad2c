from __future__ import annotations

from pathlib import Path

import pytest

from formsync.config import load_config, parse_config
from formsync.errors import ConfigError


@pytest.mark.parametrize(("data", "key", "words"), [
    ({"group": {"timezone": "Mars/Olympus"}}, "group.timezone", "unknown IANA time zone"),
    ({"group": {"cadense_days": 7}}, "group.cadense_days", "did you mean 'cadence_days'"),
    ({"group": {"cadence_days": 0}}, "group.cadence_days", "greater than or equal to 1"),
    ({"group": {"language": "fr"}}, "group.language", "'es' or 'en'"),
    ({"reminders": {"smtp": {"port": "x"}}}, "reminders.smtp.port", "valid integer"),
    ({"backend": {"kind": "dropbox"}}, "backend.kind", "'local' or 'google'"),
])
def test_every_mistake_names_key_value_and_fix(data: dict[str, object], key: str,
                                               words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, Path())
    assert caught.value.key == key
    assert words in str(caught.value)
    assert caught.value.exit_code == 2
    assert "fix:" in str(caught.value)


def test_defaults_need_no_file_content(tmp_path: Path) -> None:
    (tmp_path / "formsync.toml").write_text("", encoding="utf-8")
    config = load_config(cwd=tmp_path)
    assert (config.group.timezone, config.group.cadence_days) == ("America/Mexico_City", 14)
    assert config.workspace == tmp_path.resolve()


def test_broken_toml_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "formsync.toml"
    path.write_text("[group]\nname = Deep Learning\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)


def test_missing_config_tells_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(cwd=tmp_path)
    assert "formsync init" in caught.value.fix


def test_example_config_is_valid() -> None:
    example = Path(__file__).parents[1] / "formsync.example.toml"
    assert load_config(example).group.language == "es"


def test_the_example_config_is_generated_from_the_model_and_lists_every_key() -> None:
    """Drift check: regenerate it with `python -m formsync.config_example`."""
    from formsync import config_example

    assert set(config_example.keys()) == set(config_example.MEANINGS)  # every key has a meaning
    shipped = (Path(__file__).parents[1] / "src" / "formsync" / "data" /
               "formsync.example.toml").read_text(encoding="utf-8")
    assert shipped == config_example.render(), \
        "run: .venv/bin/python -m formsync.config_example > src/formsync/data/formsync.example.toml"
