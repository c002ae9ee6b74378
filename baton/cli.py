"""The `baton` command: one place that wires bot/, store/, adapters/ and jobs/ together."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from adapters.console.session import ConsoleClock, ConsoleSession
from baton.app import App, SystemClock, build
from baton.demo import load_demo
from baton.records import collect, export, verify_all
from baton.server import run_server
from baton.settings import Settings, SettingsError
from bot.config import ConfigError, load_config
from bot.items import State
from bot.ports import ItemQuery
from store.migrate import current, upgrade


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="baton", description="Baton: handoffs, exceptions and "
                                     "approvals tracked in chat.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    sub.add_parser("run", help="start Baton on the configured surface (the console when no chat "
                               "credentials are set), with the demo loaded on first run")
    chat = sub.add_parser("chat", help="talk to Baton in this terminal")
    chat.add_argument("--as", dest="user", help="the person you act as (default: "
                      "BATON_CONSOLE_USER or alice)")
    sub.add_parser("serve", help="run the HTTP server (/healthz, /readyz)")
    demo = sub.add_parser("demo", help="fill the database with a realistic week")
    demo.add_argument("--force", action="store_true", help="load even if items exist")
    db = sub.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade", "current"])
    check = sub.add_parser("check-config", help="validate baton.yaml and the environment")
    check.add_argument("path", nargs="?", type=Path, help="file to check (default BATON_CONFIG "
                       "or ./baton.yaml)")
    audit = sub.add_parser("audit", help="the audit trail")
    audit.add_argument("action", choices=["verify"])
    exp = sub.add_parser("export", help="write items and events as CSV or JSON Lines")
    exp.add_argument("--format", choices=["csv", "jsonl"], default="jsonl")
    exp.add_argument("--out", type=Path, default=Path("export"), help="directory (./export)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return asyncio.run(_async_main(args))
    except (ConfigError, SettingsError) as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


async def _async_main(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if args.command == "check-config":
        return _check_config(settings, args.path)
    if args.command == "db":
        return await _db(settings, args.action)
    app = await build(settings)
    try:
        match args.command:
            case "run":
                return await _run(app)
            case "chat":
                return await _chat(app, args.user)
            case "serve":
                return await _serve(app)
            case "demo":
                return await _demo(app, force=args.force)
            case "audit":
                checked, problems = await verify_all(app.database.unit_of_work)
                for problem in problems:
                    print(problem)
                print(f"{checked} events checked: "
                      f"{'chain intact' if not problems else f'{len(problems)} problem(s)'}")
                return 1 if problems else 0
            case "export":
                items, events = await collect(app.database.unit_of_work)
                for line in export(args.out, args.format, items, events):
                    print(line)
                return 0
        raise AssertionError(args.command)
    finally:
        await app.database.dispose()


def _check_config(settings: Settings, path: Path | None) -> int:
    target = path or settings.config_path()
    config = load_config(target)
    teams = ", ".join(t.name for t in config.team_list())
    print(f"{target or 'built-in default'}: ok ({len(config.people)} people; teams: {teams}); "
          f"chat surface: {settings.chat_surface()}")
    return 0


async def _db(settings: Settings, action: str) -> int:
    if action == "upgrade":
        await upgrade(settings.database_url)
    print(f"database at revision {await current(settings.database_url) or 'none'}")
    return 0


async def _is_empty(app: App) -> bool:
    async with app.database.unit_of_work() as uow:
        found = await uow.items.find(app.workspace, ItemQuery(states=tuple(State), limit=1))
    return not found


async def _demo(app: App, *, force: bool) -> int:
    if not force and not await _is_empty(app):
        print("The database already has items; `baton demo --force` adds the demo week anyway.")
        return 1
    refused = await load_demo(app.baton, app.database.unit_of_work, app.workspace,
                              app.clock.now())
    for line in refused:
        print(f"demo line refused: {line}", file=sys.stderr)
    print("Loaded a week of the model-release team. Try `baton chat --as alice`, then `mine`.")
    return 1 if refused else 0


async def _run(app: App) -> int:
    surface = app.settings.chat_surface()
    if surface != "console":
        return await _serve(app)
    if await _is_empty(app) and app.directory.team("release") is not None:
        await _demo(app, force=False)
    return await _chat(app, None)


async def _chat(app: App, user: str | None) -> int:
    name = user or app.settings.console_user or "alice"
    person = app.directory.person(name.lstrip("@"))
    if person is None:
        print(f"No one called {name} is in baton.yaml; use --as with one of its people.",
              file=sys.stderr)
        return 2
    clock = ConsoleClock(SystemClock().now)
    app.baton.clock = clock
    session = ConsoleSession(
        app.baton, app.database.unit_of_work, clock, workspace=app.workspace, user=person.id,
        stdin=sys.stdin, stdout=sys.stdout,
        due_work=lambda now: app.baton.tick(app.workspace, now),
        deliver=app.settings.chat_surface() == "console", interactive=sys.stdin.isatty(),
    )
    await session.run()
    return 0


async def _serve(app: App) -> int:
    return await run_server(app)


if __name__ == "__main__":
    raise SystemExit(main())
