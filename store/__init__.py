"""Persistence: SQLAlchemy tables, the repositories behind bot.ports, units of work, the
outbox and Alembic migrations. Wire it with `store.uow.Database` and `store.migrate.upgrade`."""
