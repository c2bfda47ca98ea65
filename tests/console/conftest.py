"""The console's tests: the bot served over plain HTTP on loopback, and a staff member logged in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import Settings
from bot.core import Core
from tests.conftest import make_settings
from tests.console_kit import CONSOLE_URL, Browser, console, staff_in


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """PUBLIC_URL is http like the loopback server (an https one makes the cookies Secure)."""
    return make_settings(tmp_path, public_url=CONSOLE_URL)


@pytest.fixture
async def staff(core: Core) -> AsyncIterator[Browser]:
    """Claire Dubois, staff, logged in with the code the bot sent her."""
    async with console(core) as browser:
        await staff_in(core, browser)
        yield browser
