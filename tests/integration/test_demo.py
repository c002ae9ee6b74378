"""`baton demo`: eight weeks typed through the core with nothing refused, so the weekly
digest's chart and its changes against the week before have something to show on first run;
loaded again (`--force`) it names its own items, not the first ones in the database."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from baton.app import build
from baton.demo import load_demo
from baton.settings import Settings
from bot.figures import WeeklyFigures

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
WEEKLY_TEAMS = ("ml-platform", "eval", "release")  # legal has no weekly digest


async def test_the_demo_holds_eight_weeks_each_with_work_in_it(tmp_path: Path) -> None:
    settings = Settings(config=ROOT / "baton.example.yaml",
                        database_url=f"sqlite+aiosqlite:///{tmp_path / 'baton.db'}")
    app = await build(settings)
    try:
        assert await load_demo(app.baton, app.database, app.workspace, NOW) == []

        async def weekly(team: str) -> WeeklyFigures:
            return await app.database.read(
                lambda uow: uow.stats.weekly(app.workspace, team, NOW))

        for team in WEEKLY_TEAMS:
            figures = await weekly(team)
            created = [point.created for point in figures.trend]
            done = [point.done for point in figures.trend]
            assert len(created) == 8
            assert all(created), (team, created)  # no empty week on the chart
            assert sum(done[:-1]) >= 6, (team, done)  # history closed, not just opened
            assert len(set(created)) > 1, (team, created)  # a pace that changes
            assert figures.last.created and figures.last.done, team  # changes against it
            assert figures.last.ack.count and figures.last.resolve.count, team

        # Again, as `baton demo --force` does: the second copy acts on its own items.
        assert await load_demo(app.baton, app.database, app.workspace,
                               NOW) == []
    finally:
        await app.close()
