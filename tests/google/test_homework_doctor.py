"""`formsync doctor` checks the homework Form's worksheet when [homework] names one."""

from __future__ import annotations

import json
from pathlib import Path

from tests.google.test_doctor import FORM, MASTER, seed

from formsync.config import Config, parse_config
from formsync.emulator import Emulator
from formsync.emulator.testing import google_settings
from formsync.google.doctor import run_doctor
from formsync.google.transport import RetryPolicy

HOMEWORK = "homework-id"


def config(emulator: Emulator, root: Path, info: dict[str, str]) -> Config:
    (root / "key.json").write_text(json.dumps(info), encoding="utf-8")
    settings = google_settings(emulator, master_spreadsheet=MASTER, responses_spreadsheet=FORM,
                               credentials_file="key.json",
                               credentials_env="FORMSYNC_TEST_UNSET", timeout_seconds=5,
                               retry_deadline_seconds=60)
    return parse_config({"backend": {"kind": "google"}, "google": settings,
                         "homework": {"responses_spreadsheet": HOMEWORK,
                                      "worksheet": "Respuestas de formulario 1"}}, root)


def test_the_homework_worksheet_is_checked(emulator: Emulator, tmp_path: Path,
                                           service_account_info: dict[str, str],
                                           policy: RetryPolicy) -> None:
    seed(emulator)
    emulator.sheets.create_spreadsheet(HOMEWORK, {"Respuestas de formulario 1": [[
        "Marca temporal", "Dirección de correo electrónico", "Sesión", "Enlace"]]})
    checks = {c.name: c for c in run_doctor(config(emulator, tmp_path, service_account_info),
                                            policy=policy)}
    assert checks["homework worksheet"].ok, checks["homework worksheet"]


def test_a_homework_form_without_a_link_question_fails(emulator: Emulator, tmp_path: Path,
                                                       service_account_info: dict[str, str],
                                                       policy: RetryPolicy) -> None:
    seed(emulator)
    emulator.sheets.create_spreadsheet(HOMEWORK, {"Respuestas de formulario 1": [[
        "Marca temporal", "Dirección de correo electrónico", "Sesión"]]})
    checks = {c.name: c for c in run_doctor(config(emulator, tmp_path, service_account_info),
                                            policy=policy)}
    check = checks["homework worksheet"]
    assert not check.ok and "no Link column" in check.detail
