"""Loading credentials from config, token exchange with the emulator, and no leaked secrets."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import google.oauth2.credentials
import pytest
from google.oauth2 import service_account

from formsync.config import GOOGLE_TOKEN_URI, Google
from formsync.emulator import Emulator
from formsync.emulator.testing import make_authorized_user, make_service_account
from formsync.errors import BackendError, ConfigError
from formsync.google.auth import SCOPE_SHEETS, load_credentials, login, redact
from formsync.google.transport import open_gspread_client

SCOPES = (SCOPE_SHEETS,)


def write_json(path: Path, info: dict[str, Any]) -> Path:
    path.write_text(json.dumps(info), encoding="utf-8")
    return path


def open_sheet(emulator: Emulator, cfg: Google, credentials: Any) -> list[list[str]]:
    emulator.sheets.create_spreadsheet("sheet-id", {"Sheet1": [["ok"]]})
    return list(open_gspread_client(cfg, credentials).open_by_key("sheet-id").sheet1
                .get_all_values())


def test_service_account_key_file_exchanges_a_jwt_for_a_token(
        emulator: Emulator, google_cfg: Google, service_account_info: dict[str, str],
        tmp_path: Path) -> None:
    key_file = write_json(tmp_path / "key.json", service_account_info)
    cfg = google_cfg.model_copy(update={"credentials_file": "key.json"})
    credentials = load_credentials(cfg, SCOPES, base_dir=tmp_path, environ={})
    assert isinstance(credentials, service_account.Credentials)
    assert open_sheet(emulator, cfg, credentials) == [["ok"]]
    assert emulator.counts()["oauth.token"] == 1
    assert key_file.exists()


def test_config_token_uri_overrides_the_key_files(google_cfg: Google,
                                                  service_account_info: dict[str, str]) -> None:
    info = {**service_account_info, "token_uri": GOOGLE_TOKEN_URI}
    credentials = load_credentials(google_cfg, SCOPES, environ={
        google_cfg.credentials_env: json.dumps(info)})
    assert credentials._token_uri == google_cfg.token_uri  # type: ignore[attr-defined]


def test_key_file_token_uri_is_kept_when_config_has_googles_default(
        emulator: Emulator, service_account_info: dict[str, str]) -> None:
    cfg = Google()
    credentials = load_credentials(cfg, SCOPES, environ={
        cfg.credentials_env: json.dumps(service_account_info)})
    assert credentials._token_uri == emulator.token_url  # type: ignore[attr-defined]


def test_credentials_file_comes_before_the_environment(
        emulator: Emulator, google_cfg: Google, tmp_path: Path) -> None:
    from_file = make_service_account(emulator, client_email="file@p.iam.gserviceaccount.com")
    from_env = make_service_account(emulator, client_email="env@p.iam.gserviceaccount.com")
    write_json(tmp_path / "key.json", from_file)
    cfg = google_cfg.model_copy(update={"credentials_file": str(tmp_path / "key.json")})
    credentials = load_credentials(cfg, SCOPES, environ={cfg.credentials_env: json.dumps(
        from_env)})
    assert credentials.service_account_email == "file@p.iam.gserviceaccount.com"  # type: ignore[attr-defined]


def test_application_default_credentials_are_used_when_set(
        emulator: Emulator, google_cfg: Google, service_account_info: dict[str, str],
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_file = write_json(tmp_path / "adc.json", service_account_info)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
    credentials = load_credentials(google_cfg, SCOPES,
                                   environ={"GOOGLE_APPLICATION_CREDENTIALS": str(key_file)})
    assert open_sheet(emulator, google_cfg, credentials) == [["ok"]]


def test_external_account_json_is_loaded_by_google_auth(google_cfg: Google,
                                                        tmp_path: Path) -> None:
    subject_token = write_json(tmp_path / "oidc.json", {"id_token": "x"})
    info = {"type": "external_account",
            "audience": "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/"
                        "p/providers/gh",
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
            "token_url": "https://sts.googleapis.com/v1/token",
            "credential_source": {"file": str(subject_token),
                                  "format": {"type": "json",
                                             "subject_token_field_name": "id_token"}}}
    credentials = load_credentials(google_cfg, SCOPES,
                                   environ={google_cfg.credentials_env: json.dumps(info)})
    assert type(credentials).__module__ == "google.auth.identity_pool"


def test_oauth_token_file_refreshes_at_the_emulator(emulator: Emulator, google_cfg: Google,
                                                    tmp_path: Path) -> None:
    token_file = write_json(tmp_path / "token.json", make_authorized_user(emulator))
    cfg = google_cfg.model_copy(update={"oauth_token_file": str(token_file)})
    credentials = load_credentials(cfg, SCOPES, environ={})
    assert isinstance(credentials, google.oauth2.credentials.Credentials)
    assert open_sheet(emulator, cfg, credentials) == [["ok"]]
    (token,) = emulator.oauth.issued_tokens()
    assert token.principal == "organizer@example.com"


def test_subject_needs_a_service_account(emulator: Emulator, google_cfg: Google) -> None:
    cfg = google_cfg.model_copy(update={"subject": "boss@example.com"})
    with pytest.raises(ConfigError) as raised:
        load_credentials(cfg, SCOPES, environ={
            cfg.credentials_env: json.dumps(make_authorized_user(emulator))})
    assert raised.value.key == "google.subject"


@pytest.mark.parametrize("kind", ["external_account_authorized_user", "junk", None])
def test_an_unusable_key_type_names_the_file_and_its_type_not_the_subject(
        google_cfg: Google, tmp_path: Path, kind: str | None) -> None:
    key = write_json(tmp_path / "key.json", {"type": kind, "client_id": "x"})
    cfg = google_cfg.model_copy(update={"subject": "boss@example.com",
                                        "credentials_file": str(key)})
    with pytest.raises(ConfigError) as raised:
        load_credentials(cfg, SCOPES, environ={})
    error = raised.value
    assert error.key == "google.credentials_file"
    assert str(key) in error.message and "subject" not in error.message
    assert (f"\"type\" {kind!r}" if kind else 'no "type"') in error.message
    assert "'service_account'" in error.fix and "formsync auth login" in error.fix


def test_no_credentials_at_all_says_every_way_to_provide_them(google_cfg: Google) -> None:
    with pytest.raises(ConfigError) as raised:
        load_credentials(google_cfg, SCOPES, environ={})
    assert "formsync auth login" in raised.value.fix
    assert "GOOGLE_APPLICATION_CREDENTIALS" in raised.value.fix


def test_missing_key_file_names_the_config_key(google_cfg: Google, tmp_path: Path) -> None:
    cfg = google_cfg.model_copy(update={"credentials_file": str(tmp_path / "nope.json")})
    with pytest.raises(ConfigError) as raised:
        load_credentials(cfg, SCOPES, environ={})
    assert raised.value.key == "google.credentials_file"
    assert "does not exist" in str(raised.value)


def test_malformed_key_json_does_not_echo_the_key(google_cfg: Google,
                                                  service_account_info: dict[str, str]) -> None:
    broken = json.dumps(service_account_info)[:-2]  # a truncated download
    with pytest.raises(ConfigError) as raised:
        load_credentials(google_cfg, SCOPES, environ={google_cfg.credentials_env: broken})
    assert "not valid JSON" in str(raised.value)
    assert_no_secret(str(raised.value), service_account_info)


def test_unusable_private_key_does_not_echo_the_key(google_cfg: Google,
                                                    service_account_info: dict[str, str]) -> None:
    info = {**service_account_info, "private_key": service_account_info["private_key"][:300]}
    with pytest.raises(ConfigError) as raised:
        load_credentials(google_cfg, SCOPES,
                         environ={google_cfg.credentials_env: json.dumps(info)})
    assert "not a usable service-account key" in str(raised.value)
    assert_no_secret(str(raised.value), info)


def test_revoked_key_fails_with_a_fix_and_no_secret(
        emulator: Emulator, google_cfg: Google, service_account_info: dict[str, str],
        make_credentials: Any) -> None:
    emulator.oauth.revoke_key(service_account_info["private_key_id"])
    with pytest.raises(BackendError) as raised:
        open_sheet(emulator, google_cfg, make_credentials(service_account_info))
    message = str(raised.value)
    assert "invalid_grant: Invalid JWT Signature." in message
    assert service_account_info["client_email"] in message
    assert "create a new JSON key" in raised.value.fix
    assert_no_secret(message, service_account_info)


def test_unregistered_key_is_refused(emulator: Emulator, google_cfg: Google,
                                     make_credentials: Any) -> None:
    stranger = make_service_account(emulator, client_email="x@p.iam.gserviceaccount.com",
                                    register=False)
    with pytest.raises(BackendError, match="account not found"):
        open_sheet(emulator, google_cfg, make_credentials(stranger))


def test_delegation_refused_when_not_authorized(emulator: Emulator, google_cfg: Google,
                                                make_credentials: Any) -> None:
    info = make_service_account(emulator, client_email="nodwd@p.iam.gserviceaccount.com",
                                allow_delegation=False)
    cfg = google_cfg.model_copy(update={"subject": "boss@example.com"})
    with pytest.raises(BackendError) as raised:
        open_sheet(emulator, cfg, make_credentials(info, cfg=cfg))
    assert "unauthorized_client" in str(raised.value)
    assert "domain-wide delegation" in raised.value.fix


def assert_no_secret(text: str, info: dict[str, str]) -> None:
    key_body = info["private_key"].splitlines()[1]
    assert key_body not in text
    assert "PRIVATE KEY" not in text


@pytest.mark.parametrize("secret", [
    "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqh\n-----END PRIVATE KEY-----\n",
    "ya29.a0AfH6SMBx-secret", "1//0gLxSecretRefresh", "GOCSPX-abcdefSECRET",
])
def test_redact_masks_keys_and_tokens(secret: str) -> None:
    text = redact(f"failed: {secret} (see log)")
    assert secret.strip() not in text and "[redacted]" in text and text.startswith("failed: ")


def test_redact_masks_secret_fields_and_given_values() -> None:
    text = redact('{"client_secret": "hunter22", "refresh_token": "r-123", "scope": "s"} '
                  "pw=opensesame", secrets=["opensesame"])
    assert "hunter22" not in text and "r-123" not in text and "opensesame" not in text
    assert '"scope": "s"' in text


def test_login_saves_an_authorized_user_token_only_the_owner_can_read(
        emulator: Emulator, google_cfg: Google, tmp_path: Path) -> None:
    client_file = write_json(tmp_path / "client.json", {"installed": {
        "client_id": "id.apps.googleusercontent.com", "client_secret": "GOCSPX-s",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token", "redirect_uris": ["http://localhost"]}})
    user = make_authorized_user(emulator)
    user_credentials: Any = google.oauth2.credentials.Credentials  # untyped library class
    issued = user_credentials(
        token=None, refresh_token=user["refresh_token"], client_id=user["client_id"],
        client_secret=user["client_secret"], token_uri=user["token_uri"], scopes=list(SCOPES))
    flows: list[Any] = []

    def fake_browser_flow(flow: Any) -> Any:
        flows.append(flow)
        return issued

    token_path = login(client_file, tmp_path / "auth" / "token.json", SCOPES,
                       run_flow=fake_browser_flow)
    assert stat.S_IMODE(token_path.stat().st_mode) == 0o600
    assert flows[0].client_config["client_id"] == "id.apps.googleusercontent.com"
    cfg = google_cfg.model_copy(update={"oauth_token_file": str(token_path)})
    assert open_sheet(emulator, cfg, load_credentials(cfg, SCOPES, environ={})) == [["ok"]]
