"""Config: profiles from TOML, clear errors with file and line, secrets refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from tuiot.config import ConfigError, add_profile, env_secret_name, load_config, parse_config, remove_profile

GOOD = """
# my fleets
[settings]
poll_interval = 5

[profiles.plant]
vendor = "teamviewer"
base_url = "https://api.teamviewer-iot.com"

[profiles.site-b]
vendor = "thingspro"
username = "admin"
gateways = ["https://10.0.0.5:8443", "https://10.0.0.6:8443"]
verify = "/etc/ssl/gw-ca.pem"
"""


def test_profiles_parse_with_vendor_fields() -> None:
    cfg = parse_config(GOOD)
    assert cfg.settings.poll_interval == 5
    assert cfg.profile("plant").vendor == "teamviewer"
    site = cfg.profile("site-b")
    assert site.urls == ["https://10.0.0.5:8443", "https://10.0.0.6:8443"]
    assert site.verify == "/etc/ssl/gw-ca.pem"


def test_unknown_profile_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown profile 'nope'.*plant, site-b"):
        parse_config(GOOD).profile("nope")


def test_secret_in_file_is_refused_with_line() -> None:
    text = '[profiles.x]\nvendor = "teamviewer"\nbase_url = "https://a"\napi_key = "s3cret"\n'
    with pytest.raises(ConfigError) as e:
        parse_config(text, Path("c.toml"))
    msg = str(e.value)
    assert "c.toml:1" in msg and "keyring" in msg and "s3cret" not in msg


def test_bad_toml_reports_line() -> None:
    with pytest.raises(ConfigError, match=r"line 2"):
        parse_config('[profiles.x]\nvendor = \n')


def test_unknown_field_and_vendor_reported() -> None:
    with pytest.raises(ConfigError, match=r"c.toml:3: profile 'y': unknown field 'colour'"):
        parse_config('\n\n[profiles.y]\nvendor = "murano"\nbase_url = "https://b"\nsolution_id = "s"\ncolour = 1\n', Path("c.toml"))
    with pytest.raises(ConfigError, match="vendor"):
        parse_config('[profiles.y]\nvendor = "acme"\nbase_url = "https://b"\n')


def test_missing_default_file_is_empty_but_explicit_missing_file_is_an_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("TUIOT_CONFIG")
    monkeypatch.setattr("tuiot.config.config_dir", lambda: tmp_path / "nowhere")
    assert load_config().profiles == {}
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.toml")
    monkeypatch.setenv("TUIOT_CONFIG", str(tmp_path / "first-run.toml"))  # `profile add` will write it
    assert load_config().profiles == {}


def test_add_and_remove_profile_keep_comments(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(GOOD)
    add_profile(path, "ts", {"vendor": "thingsee", "base_url": "https://x.execute-api.eu-west-1.amazonaws.com/prod/v1", "client_id": "abc"})
    text = path.read_text()
    assert "# my fleets" in text
    assert load_config(path).profile("ts").client_id == "abc"
    remove_profile(path, "ts")
    assert "ts" not in load_config(path).profiles
    assert "# my fleets" in path.read_text()


def test_add_profile_validates_before_writing(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(GOOD)
    with pytest.raises(ConfigError):
        add_profile(path, "bad", {"vendor": "murano", "base_url": "https://b"})  # no solution_id
    assert path.read_text() == GOOD


def test_env_secret_name() -> None:
    assert env_secret_name("site-b.1") == "TUIOT_SECRET_SITE_B_1"


@pytest.mark.parametrize(
    ("body", "field", "what"),
    [
        ('vendor = "teamviewer"\nbase_url = "http://u:PW123@h.example"', "base_url", "password"),
        ('vendor = "teamviewer"\nbase_url = "https://h.example/v1?api_key=PW123"', "base_url", "'api_key'"),
        ('vendor = "murano"\nbase_url = "https://h.example?Token=PW123"\nsolution_id = "s"', "base_url", "'Token'"),
        ('vendor = "thingspro"\nusername = "admin"\ngateways = ["https://10.0.0.5", "https://10.0.0.6/?x-api-key=PW123"]',
         "gateways[1]", "'x-api-key'"),
    ],
)
def test_secret_in_a_url_is_refused_naming_the_field_not_the_secret(body: str, field: str, what: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse_config(f"\n[profiles.x2]\n{body}\n", Path("c.toml"))
    msg = str(e.value)
    assert msg.startswith("c.toml:2: profile 'x2': " + field) and what in msg and "keyring" in msg
    assert "PW123" not in msg and "\n" not in msg


def test_urls_without_secrets_stay_accepted() -> None:
    cfg = parse_config('[profiles.x]\nvendor = "teamviewer"\nbase_url = "https://ops@h.example/v1?region=eu&page=2"\n')
    assert cfg.profile("x").base_url == "https://ops@h.example/v1?region=eu&page=2"


def test_secret_url_on_the_command_line_is_refused_and_never_written(capsys: pytest.CaptureFixture[str]) -> None:
    import os

    from tuiot.cli import EXIT_USAGE, main

    path = Path(os.environ["TUIOT_CONFIG"])
    path.write_text(GOOD)
    rc = main(["profile", "add", "x2", "--vendor", "teamviewer", "--base-url", "http://u:PW123@h.example"])
    err = capsys.readouterr().err
    assert rc == EXIT_USAGE and err.count("\n") == 1 and "base_url has a password" in err and "PW123" not in err
    assert path.read_text() == GOOD

    # a file that already holds one: `profile list` says so in one line, echoing nothing
    path.write_text(GOOD + '\n[profiles.old]\nvendor = "teamviewer"\nbase_url = "https://h.example?apikey=PW123"\n')
    assert main(["profile", "list"]) == EXIT_USAGE
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "profile 'old': base_url" in err and "PW123" not in err


def _add(*args: str) -> int:
    from tuiot.cli import main

    return main(["profile", "add", *args])


def test_profile_add_refuses_to_replace_unless_asked(capsys: pytest.CaptureFixture[str]) -> None:
    import os

    path = Path(os.environ["TUIOT_CONFIG"])
    path.write_text(GOOD)
    assert _add("plant", "--vendor", "thingsee", "--base-url", "https://t.example", "--client-id", "c") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'plant' already exists" in err and "--replace" in err
    assert path.read_text() == GOOD

    assert _add("plant", "--vendor", "thingsee", "--base-url", "https://t.example", "--client-id", "c", "--replace") == 0
    cfg = load_config(path)
    assert cfg.profile("plant").vendor == "thingsee" and cfg.profile("site-b").vendor == "thingspro"


def test_profile_add_refuses_a_name_that_would_share_the_secret_variable(capsys: pytest.CaptureFixture[str]) -> None:
    import os

    path = Path(os.environ["TUIOT_CONFIG"])
    path.write_text(GOOD)
    for name in ("Plant", "SITE_B"):
        assert _add(name, "--vendor", "teamviewer", "--base-url", "https://h.example", "--replace") == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"would share {env_secret_name(name)}" in err
    assert path.read_text() == GOOD


def test_thingsee_without_client_id_is_refused_when_added_and_when_loaded(capsys: pytest.CaptureFixture[str]) -> None:
    import os

    path = Path(os.environ["TUIOT_CONFIG"])
    assert _add("ts", "--vendor", "thingsee", "--base-url", "https://t.example") == 2
    assert "--client-id is required for thingsee" in capsys.readouterr().err
    assert not path.exists()
    with pytest.raises(ConfigError, match=r"c.toml:1: profile 'ts' \(thingsee\) needs client_id"):
        parse_config('[profiles.ts]\nvendor = "thingsee"\nbase_url = "https://t.example"\n', Path("c.toml"))
