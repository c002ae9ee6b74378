"""The `baton` command: one place that wires bot/, store/, adapters/ and jobs/ together.

Each command imports what it uses when it runs (a chart library for a chart, Slack for Slack,
Alembic to migrate), so `baton --help` and `baton check-config` start at once;
tests/integration/test_cli_imports.py keeps it so and bench/startup.py measures it.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import datetime

    from adapters.console.session import ConsoleClock
    from baton.app import App
    from baton.settings import Settings
    from bot.delivery import OutboxStats
    from bot.rich import Rich
    from store.outbox import OutboxEntry
    from store.uow import SqlUnitOfWork

#: The outbox's states as `baton outbox list --state` offers them: store.outbox's PENDING,
#: SENT, PARKED and SKIPPED (a test holds them equal), named here so the parser needs no
#: SQLAlchemy.
OUTBOX_STATES = ("pending", "sent", "parked", "skipped")
#: Commands that run until one stops them: Ctrl-C ends them normally (exit 0).
LEFT_WITH_CTRL_C = ("run", "chat", "serve")


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
    audit.add_argument("action", choices=["verify", "checkpoint"], help="verify: check the "
                       "hash chain and the signed checkpoints; checkpoint: sign each "
                       "workspace's head")
    exp = sub.add_parser("export", help="write items and events as CSV or JSON Lines")
    exp.add_argument("--format", choices=["csv", "jsonl"], default="jsonl")
    exp.add_argument("--out", type=Path, default=Path("export"), help="directory (./export)")
    box = sub.add_parser("outbox", help="messages waiting, sent or parked; retry parked ones")
    box.add_argument("action", choices=["list", "retry"])
    box.add_argument("ids", nargs="*", type=int, metavar="id", help="messages to retry")
    box.add_argument("--state", choices=OUTBOX_STATES, help="list only these")
    box.add_argument("--all", action="store_true", help="retry every parked message")
    box.add_argument("--limit", type=int, default=50, help="list at most this many (50)")
    _api_commands(sub)
    _teams_commands(sub)
    return parser


def _teams_commands(sub: Any) -> None:
    """`baton teams package`: the Teams app to upload."""
    teams = sub.add_parser("teams", help="the Microsoft Teams app")
    actions = teams.add_subparsers(dest="action", required=True, metavar="action")
    pack = actions.add_parser("package", help="write the app package to upload in Teams "
                              "(manifest.json and icons, with BATON_TEAMS_APP_ID)")
    pack.add_argument("--out", type=Path, default=Path("baton-teams.zip"),
                      help="the zip to write (./baton-teams.zip)")
    pack.add_argument("--domain", help="the host name Teams reaches Baton at (default: the "
                                       "host of BATON_PUBLIC_URL)")
    pack.add_argument("--website", help="your page about Baton, linked from the app's About "
                                        "tab (default: https://<domain>/)")


def _api_commands(sub: Any) -> None:
    """`baton token`, `baton request-approval` and `baton mcp` (the API's commands)."""
    token = sub.add_parser("token", help="API tokens for pipelines and agents")
    actions = token.add_subparsers(dest="action", required=True, metavar="action")
    create = actions.add_parser("create", help="make a token (shown once, stored hashed)")
    create.add_argument("--name", required=True, help="the client, as in release-pipeline")
    create.add_argument("--team", required=True, help="the team it works for")
    create.add_argument("--scope", action="append", default=[], metavar="SCOPE",
                        help="items:read, items:write (default), items:decide, "
                             "webhooks:write; repeat for several")
    create.add_argument("--owner", help="the person it acts for (@alice); needed to decide")
    revoke = actions.add_parser("revoke", help="revoke a client's tokens (by name) or one "
                                               "token (by id or prefix)")
    revoke.add_argument("ref", help="client name, token id or token prefix")
    actions.add_parser("list", help="every token with its scopes and last use")

    ask = sub.add_parser("request-approval", help="ask people for an approval and wait: exit "
                         "0 approved, 1 rejected, 2 timed out or cancelled")
    ask.add_argument("--title", required=True)
    ask.add_argument("--approvers", nargs="+", required=True, metavar="@PERSON")
    ask.add_argument("--policy", default="any", help="any, all, quorum:N or sequence")
    ask.add_argument("--details", default="")
    ask.add_argument("--team", help="default: the token's team")
    ask.add_argument("--priority", choices=["urgent", "high", "normal", "low"])
    ask.add_argument("--link", action="append", default=[], metavar="URL",
                     help="a related address (a CI run); repeat for several")
    ask.add_argument("--timeout", default="2h", help="how long to wait (90s, 30m, 2h, 1d)")
    ask.add_argument("--url", help="Baton's address (default BATON_URL or "
                                   "http://127.0.0.1:3000)")
    ask.add_argument("--token", help="API token (default BATON_TOKEN)")

    sub.add_parser("mcp", help="the MCP server on stdin/stdout, for a local AI agent "
                               "(BATON_TOKEN names the client it acts as)")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)  # --help and usage errors end here, having imported little
    import asyncio

    from baton.settings import SettingsError
    from bot.config import ConfigError

    try:
        return asyncio.run(_async_main(args))
    except (ConfigError, SettingsError) as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # Ctrl-C is how one leaves the console or stops a server: a normal end (so `make run`
        # reports no error). Elsewhere it interrupted something: 130, as a shell says.
        return 0 if args.command in LEFT_WITH_CTRL_C else 130
    except BrokenPipeError:
        # Whoever read the output left (`baton outbox list | head`): stop quietly, and point
        # stdout at /dev/null so the interpreter's last flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
QUIET_ON_IMPORT = "alembic.runtime.plugins"


def configure_logging(settings: Settings, command: str) -> None:
    """Log lines to stderr with time, level and logger, at BATON_LOG_LEVEL. A terminal
    session (`baton run` or `chat` on the console) shows warnings and errors only unless
    BATON_LOG_LEVEL is set, so log lines do not interleave with the conversation."""
    import logging

    serving = command == "serve" or (command == "run" and bool(settings.chat_surfaces()))
    chosen = "log_level" in settings.model_fields_set  # in the environment or .env
    level = settings.log_level if serving or chosen else "WARNING"
    logging.basicConfig(level=level, format=LOG_FORMAT, stream=sys.stderr, force=True)
    # Alembic names each plugin it loads, at INFO, when it is imported: now that it is
    # imported after logging is set up (when a command migrates), that would be seven lines
    # of noise at every start. Its warnings still show, and DEBUG shows everything.
    if logging.getLogger().level > logging.DEBUG:
        logging.getLogger(QUIET_ON_IMPORT).setLevel(logging.WARNING)


async def _async_main(args: argparse.Namespace) -> int:
    from baton.settings import Settings

    settings = Settings.from_env()
    configure_logging(settings, args.command)
    if args.command == "check-config":
        return _check_config(settings, args.path)
    if args.command == "db":
        return await _db(settings, args.action)
    if args.command == "teams":
        from baton.teams_package import command

        return command(settings, args)
    if args.command == "request-approval":
        from baton.gate import request_approval

        return await request_approval(args)
    if args.command == "serve" or (args.command == "run" and settings.chat_surfaces()):
        return await _serve(settings)
    if args.command in ("run", "chat"):
        return await _console(settings, args.user if args.command == "chat" else None,
                              demo=args.command == "run")
    from baton.app import build

    app = await build(settings)
    try:
        match args.command:
            case "demo":
                return await _demo(app, force=args.force)
            case "audit":
                from baton.audit import audit

                return await audit(app.database, app.settings, args.action, app.clock.now())
            case "export":
                from baton.records import collect, export

                items, events = await collect(app.database)
                for line in export(args.out, args.format, items, events):
                    print(line)
                return 0
            case "outbox":
                return await _outbox(app, args)
            case "token":
                return await _token(app, args)
            case "mcp":
                from baton.wire_mcp import serve_stdio

                return await serve_stdio(app)
        raise AssertionError(args.command)
    finally:
        await app.close()


def _check_config(settings: Settings, path: Path | None) -> int:
    from bot.config import ConfigDirectory, load_config

    target = path or settings.config_path()
    config = load_config(target)
    ConfigDirectory(config)  # what `serve` builds from it, calendars included
    teams = ", ".join(t.name for t in config.team_list())
    chat = ", ".join(settings.chat_surfaces()) or "none (the console)"
    print(f"{target or 'built-in default'}: ok ({len(config.people)} people; teams: {teams}); "
          f"chat surfaces: {chat}")
    return 0


async def _db(settings: Settings, action: str) -> int:
    from store.migrate import current, upgrade

    if action == "upgrade":
        await upgrade(settings.database_url)
    print(f"database at revision {await current(settings.database_url) or 'none'}")
    return 0


async def _is_empty(app: App) -> bool:
    from bot.items import State
    from bot.ports import ItemQuery

    found = await app.database.read(
        lambda uow: uow.items.find(app.workspace, ItemQuery(states=tuple(State), limit=1)))
    return not found


async def _demo(app: App, *, force: bool) -> int:
    from baton.demo import load_demo

    if not force and not await _is_empty(app):
        print("The database already has items; `baton demo --force` adds the demo week anyway.")
        return 1
    refused = await load_demo(app.baton, app.database, app.workspace, app.clock.now())
    for line in refused:
        print(f"demo line refused: {line}", file=sys.stderr)
    print(f"Loaded eight weeks of the model-release organisation's work. Try "
          f"`{_program()} chat --as alice`, then `mine`.")
    return 1 if refused else 0


def _program() -> str:
    """This `baton` as one would type it here: `baton` when that is what PATH finds, else
    the path it was started by (`make run` starts .venv/bin/baton, not on PATH)."""
    import shutil

    started = Path(sys.argv[0])
    if started.name != "baton":  # python -m baton.cli, a test: name the command itself
        return "baton"
    found = shutil.which("baton")
    return "baton" if found and Path(found).resolve() == started.resolve() else str(started)


async def _console(settings: Settings, user: str | None, *, demo: bool) -> int:
    """`baton run` without chat credentials (the demo on first run, then the console), and
    `baton chat`: the console, on a clock `:time` can move."""
    from adapters.console.session import ConsoleClock
    from baton.app import SystemClock, build

    clock = ConsoleClock(SystemClock().now)
    app = await build(settings, clock)
    try:
        if demo and await _is_empty(app) and app.directory.team("release") is not None:
            await _demo(app, force=False)
        return await _chat(app, clock, user)
    finally:
        await app.close()


async def _chat(app: App, clock: ConsoleClock, user: str | None) -> int:
    import asyncio
    from datetime import timedelta

    from adapters.console.session import ConsoleSession
    from adapters.console.transport import ConsoleTransport
    from baton import wire_jobs
    from store.console_clock import console_offset, keep_console_offset

    name = user or app.settings.console_user or "alice"
    person = app.directory.person(name.lstrip("@"))
    if person is None:
        print(f"No one called {name} is in baton.yaml; use --as with one of its people.",
              file=sys.stderr)
        return 2
    # The console delivers only when no chat platform does: it is the platform then.
    chat = app.settings.chat_surfaces()
    deliver = not chat
    # `:time` on a console's own database is kept with it (a console started again goes on
    # from there); on one that serves a chat platform it is refused: moving that clock would
    # send real people their reminders and escalations early.
    clock.offset = await console_offset(app.database, app.workspace) if deliver else timedelta()

    async def keep_offset(offset: timedelta) -> None:
        await keep_console_offset(app.database, app.workspace, offset)

    worker = wire_jobs.outbox_worker(app, [ConsoleTransport(sys.stdout)]) if deliver else None
    timers = wire_jobs.jobs(app)
    since = clock.now()

    async def due_work(now: datetime) -> list[Rich]:
        """`:time`: what the timers would have done meanwhile (digests, then the sweep)."""
        nonlocal since
        lines = await timers.catch_up(since, now)
        since = now
        return lines

    if worker is not None:
        await worker.recover()
    interactive = sys.stdin.isatty()
    platforms = " and ".join(surface.title() for surface in chat)
    session = ConsoleSession(
        app.runner, app.directory, clock, workspace=app.workspace, user=person.id,
        stdin=sys.stdin, stdout=sys.stdout, due_work=due_work, interactive=interactive,
        outbox=worker.drain if worker else None,
        keep_offset=keep_offset if deliver else None,
        travel_refused="" if deliver else f"this database serves {platforms}, and "
        "moving its clock would send real reminders and escalations early",
    )
    stop = asyncio.Event()
    background = None
    if interactive:  # timers and delivery run by themselves, printing as they fire
        timers.start()
        background = asyncio.create_task(worker.run(stop)) if worker else None
    try:
        await session.run()
    finally:
        timers.shutdown()
        stop.set()
        if background is not None:
            await background
    return 0


async def _outbox(app: App, args: argparse.Namespace) -> int:
    if args.action == "retry":
        if not args.ids and not args.all:
            print("Name the messages to retry (baton outbox retry 12 13) or use --all.",
                  file=sys.stderr)
            return 2
        async def retry(uow: SqlUnitOfWork) -> int:
            retried = await uow.outbox.retry(None if args.all else args.ids, app.clock.now())
            await uow.commit()
            return retried

        retried = await app.database.write(retry)
        print(f"{retried} parked message{'s' if retried != 1 else ''} queued again.")
        return 0
    async def look(uow: SqlUnitOfWork) -> tuple[OutboxStats, list[OutboxEntry]]:
        return (await uow.outbox.stats(app.clock.now()),
                await uow.outbox.rows(args.state, args.limit))

    stats, rows = await app.database.read(look)
    print(f"outbox: {stats.pending} pending ({stats.ready} ready now), {stats.parked} parked")
    for row in rows:
        print(_outbox_line(row))
    return 0


def _outbox_line(row: OutboxEntry) -> str:
    from store.outbox import SENT

    when = row.sent_at if row.state == SENT else row.next_attempt_at
    at = f" {'sent' if row.state == SENT else 'next'} {when:%Y-%m-%d %H:%M:%S}" if when else ""
    item = f" #{row.item}" if row.item is not None else ""
    error = f"\n      last error: {row.last_error[:200]}" if row.last_error else ""
    text = row.text.replace("\n", " ")
    text = text if len(text) <= 70 else text[:69] + "…"
    surface = f" on {row.surface}" if row.surface else ""
    return (f"{row.id:>7} {row.state:<7} attempts {row.attempts}{at} {row.delivery} → "
            f"{row.to}{item}{surface}: {text}{error}")


async def _token(app: App, args: argparse.Namespace) -> int:
    from baton import wire_api

    if args.action == "create":
        try:
            token, client = await wire_api.create_token(app, args.name, args.team, args.scope,
                                                        args.owner)
        except wire_api.TokenError as exc:
            print(exc, file=sys.stderr)
            return 2
        owner = f", on behalf of @{client.owner}" if client.owner else ""
        print(f"Token {client.id} for {client.name} (team {client.team}; "
              f"{', '.join(sorted(client.scopes))}{owner}). It is shown only now:\n"
              f"  {token}\n"
              f"Webhook signing secret (verify deliveries with it, see the README):\n"
              f"  {client.signing_secret}")
        return 0
    if args.action == "revoke":
        revoked = await wire_api.revoke_tokens(app, args.ref)
        if not revoked:
            print(f"No live token matches {args.ref!r} (a client name, token id or prefix).",
                  file=sys.stderr)
            return 1
        for client in revoked:
            print(f"Revoked token {client.id} ({client.prefix}…) of {client.name}.")
        return 0
    clients = await wire_api.list_tokens(app)
    if not clients:
        print("No API tokens yet: `baton token create --name … --team …` makes one.")
    for c in clients:
        used = f"last used {c.last_used_at:%Y-%m-%d %H:%M}" if c.last_used_at else "never used"
        state = f"revoked {c.revoked_at:%Y-%m-%d %H:%M}" if c.revoked_at else "live"
        owner = f" for @{c.owner}" if c.owner else ""
        print(f"{c.id:>4} {c.prefix}…  {c.name}{owner}  team {c.team}  "
              f"[{' '.join(sorted(c.scopes))}]  {state}, {used}")
    return 0


async def _serve(settings: Settings) -> int:
    from adapters.http.metrics import Metrics
    from baton.app import build
    from baton.server import run_server

    settings.check_serving()
    metrics = Metrics()
    app = await build(settings, observe=metrics.observe_command)
    try:
        return await run_server(app, metrics)
    finally:
        await app.close()


if __name__ == "__main__":
    raise SystemExit(main())
