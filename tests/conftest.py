"""Fixtures shared by several test modules.

Event stores (test_store.py, test_store_prune.py, test_restart.py, test_export.py):
``store_url`` is a fresh, empty store location on each backend, SQLite and a real
PostgreSQL server on loopback. The server comes from
:class:`skyfence.store.pgserver.LocalPostgres` (``initdb`` + ``pg_ctl`` into a temp
dir; as an unprivileged user when run as root), one per test session. ``make test``
installs the server binaries when missing and sets ``SKYFENCE_REQUIRE_PG=1``, so there
a missing server fails the run; a bare ``pytest`` without the binaries skips the
PostgreSQL cases with the reason shown.

Browser tests (test_web_ui.py, test_web_replay.py): ``browser`` (Debian's Chromium
under Playwright, one per module) and ``page`` (a fresh page; a JavaScript error on
it fails the test). The modules import tests/chromium.py first, which skips them
without the browser.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from itertools import count
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from skyfence.store.pgserver import LocalPostgres, find_pg_bin

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

STORE_BACKENDS = ["sqlite", "postgresql"]
_db_numbers = count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[LocalPostgres]:
    """A PostgreSQL server on loopback for the session (skip, or fail when required)."""
    if find_pg_bin() is None:
        reason = "PostgreSQL server binaries not found (make test installs them)"
        if os.environ.get("SKYFENCE_REQUIRE_PG") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    with LocalPostgres() as server:
        yield server


@pytest.fixture(params=STORE_BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty store location for each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'events.sqlite'}"
    server: LocalPostgres = request.getfixturevalue("pg_server")
    return server.create_database(f"t{next(_db_numbers)}")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    from chromium import CHROMIUM  # skips without the browser

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda exc: errors.append(str(exc)))
    yield p
    context.close()
    assert not errors, errors
