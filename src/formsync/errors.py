"""One error tree. Each error carries what a person needs to find and fix the problem."""

from __future__ import annotations


class FormsyncError(Exception):
    """Base of every error formsync reports to a person (printed without a traceback)."""

    exit_code = 1

    def __init__(self, message: str, *, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message}\n  fix: {self.fix}" if self.fix else self.message


class ConfigError(FormsyncError):
    """A mistake in formsync.toml or on the command line."""

    exit_code = 2

    def __init__(self, key: str, message: str, *, fix: str = "") -> None:
        super().__init__(f"config {key}: {message}" if key else message, fix=fix)
        self.key = key


class InputError(FormsyncError):
    """Data in a sheet or file that formsync cannot use as it is."""

    exit_code = 2

    def __init__(self, message: str, *, sheet: str = "", row: int | None = None,
                 column: str = "", fix: str = "") -> None:
        place = ", ".join(
            part for part in (sheet, f"row {row}" if row is not None else "",
                              f"column {column!r}" if column else "") if part
        )
        super().__init__(f"{place}: {message}" if place else message, fix=fix)
        self.sheet, self.row, self.column = sheet, row, column


class BackendError(FormsyncError):
    """A place formsync reads or writes (Google, SMTP, files) failed or refused."""

    exit_code = 1
