"""Fixtures: Baton's API on 127.0.0.1 over a SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.adapters.api.harness import Api, start_api, stop_api


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    running = await start_api(tmp_path)
    try:
        yield running
    finally:
        await stop_api(running)
