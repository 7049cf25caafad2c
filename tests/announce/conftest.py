"""Fixtures for the announce tests: a real webhook server on loopback."""

from __future__ import annotations

from tests.announce.support import webhooks

__all__ = ["webhooks"]
