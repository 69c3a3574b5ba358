"""Debian's Chromium driven by Playwright, for the browser tests (test_web_ui.py,
test_web_replay.py; the ``browser`` and ``page`` fixtures are in conftest.py).

Never downloads a browser: without /usr/bin/chromium (Debian's package, which
``make test`` installs) or the playwright package, importing this module skips the
importing test module, or fails it when SKYFENCE_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
if not Path(CHROMIUM).exists() or importlib.util.find_spec("playwright") is None:
    if os.environ.get("SKYFENCE_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"{CHROMIUM} or the playwright package is missing (make test "
                           "installs both)")
    pytest.skip(f"needs {CHROMIUM} (Debian's chromium) and playwright",
                allow_module_level=True)

from playwright.sync_api import Browser, Page, expect  # noqa: E402

__all__ = ["CHROMIUM", "Browser", "Page", "expect"]
