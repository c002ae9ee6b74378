"""Statements built once and run often, compiled once and run on the SQLite driver directly.

A command's unit of work runs about eight small statements. Through SQLAlchemy's execution
machinery each costs ~55 µs on this machine, of which SQLite's own work is under 10 µs: the
rest is building an execution context, processing parameters and wrapping the cursor, the same
work every time for the same statement. `prepared()` marks a module-level statement as one of
these; `Plan` compiles it once per database dialect and set of parameter names (SQLAlchemy
still writes the SQL and supplies every type's bind and result processing), and `run` binds
the parameters in order, executes on the DBAPI connection and wraps the rows in a Result.

Only what a plan can do exactly as SQLAlchemy would is taken this way: a statement whose
compilation needs callable column defaults or expanding parameters, a RETURNING executemany,
an engine that echoes or has cursor listeners all go through `Connection.execute` as before.
PostgreSQL (asyncpg) always does; it prepares statements itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import exc
from sqlalchemy.engine import Dialect, Result
from sqlalchemy.engine.result import IteratorResult, SimpleResultMetaData
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.selectable import Select

_S = TypeVar("_S", bound=Executable)
_MARKED: dict[int, Executable] = {}  # id → the statement itself, which keeps the id unique

Processor = Callable[[Any], Any] | None


def prepared(statement: _S) -> _S:
    """Mark a statement built once at import as run often: SQLite takes it by `Plan`."""
    _MARKED[id(statement)] = statement
    return statement


def is_prepared(statement: object) -> bool:
    return _MARKED.get(id(statement)) is statement


@dataclass(frozen=True, slots=True)
class Plan:
    """One marked statement compiled for one dialect and one set of parameter names."""

    sql: str
    # (parameter, whether it must be given, its value if not, its type's processor)
    binds: tuple[tuple[str, bool, Any, Processor], ...]
    keys: tuple[str, ...]  # result columns; empty when the statement returns no rows
    results: tuple[Processor, ...]
    metadata: SimpleResultMetaData  # of every Result this plan gives

    @classmethod
    def compile(cls, statement: Executable, dialect: Dialect,
                names: Sequence[str]) -> Plan | None:
        """The plan, or None where only SQLAlchemy's execution does the statement right."""
        if not isinstance(statement, ClauseElement):
            return None
        is_dml = isinstance(statement, UpdateBase)
        compiled = statement.compile(dialect=dialect, column_keys=list(names) if is_dml
                                     else None)
        if not isinstance(compiled, SQLCompiler) or compiled.positiontup is None:
            return None
        scalar_defaults: dict[str, Any] = {}
        for column in (*compiled.insert_prefetch, *compiled.update_prefetch):
            default = column.default if column in compiled.insert_prefetch \
                else column.onupdate
            if default is None or not default.is_scalar:
                return None  # a callable or SQL default: SQLAlchemy computes it per row
            scalar_defaults[column.key] = default.arg  # type: ignore[attr-defined]
        binds = []
        for name in compiled.positiontup:
            bind = compiled.binds[name]
            if bind.expanding or bind.callable is not None:
                return None
            if name in scalar_defaults:
                binds.append((name, False, scalar_defaults[name],
                              bind.type.dialect_impl(dialect).bind_processor(dialect)))
            else:
                binds.append((name, bind.required, bind.value,
                              bind.type.dialect_impl(dialect).bind_processor(dialect)))
        if isinstance(statement, Select):
            columns = list(statement.selected_columns)
        elif isinstance(statement, UpdateBase):
            columns = list(statement.exported_columns)  # RETURNING's, if any
        else:
            return None
        keys = tuple(str(c.key) for c in columns)
        results = tuple(c.type.dialect_impl(dialect).result_processor(dialect, None)
                        for c in columns)
        return cls(compiled.string, tuple(binds), keys, results, SimpleResultMetaData(keys))

    def parameters(self, given: dict[str, Any]) -> tuple[Any, ...]:
        values = []
        for name, required, default, process in self.binds:
            if name in given:
                value = given[name]
            elif required:
                raise exc.ArgumentError(f"A value is required for bind parameter {name!r}")
            else:
                value = default
            values.append(value if process is None else process(value))
        return tuple(values)

    def run(self, dbapi_connection: Any, given: dict[str, Any] | list[dict[str, Any]],
            error: type[Exception]) -> Result[Any]:
        """The statement run on a DBAPI connection with `given` (a list: executemany);
        the driver's errors raised as SQLAlchemy's, as Connection.execute raises them."""
        try:
            bound: Any = [self.parameters(p) for p in given] if isinstance(given, list) \
                else self.parameters(given)
        except exc.ArgumentError:
            raise
        except Exception as err:  # a type refusing a value, as SQLAlchemy reports it
            raise exc.StatementError(f"({type(err).__module__}.{type(err).__qualname__}) "
                                     f"{err}", self.sql, given, err) from err
        try:
            cursor = dbapi_connection.executemany(self.sql, bound) if isinstance(given, list) \
                else dbapi_connection.execute(self.sql, bound)
            rows = cursor.fetchall() if self.keys else []
        except error as err:
            raise exc.DBAPIError.instance(self.sql, given, err, error) from err
        if rows and any(p is not None for p in self.results):
            rows = [tuple(v if p is None else p(v)
                          for p, v in zip(self.results, row, strict=True)) for row in rows]
        return IteratorResult(self.metadata, iter(rows))


class Plans:
    """The plans one engine has compiled, by statement and parameter names."""

    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        self.error: type[Exception] = dialect.loaded_dbapi.Error
        self._plans: dict[tuple[int, tuple[str, ...], bool], Plan | None] = {}

    def plan(self, statement: Executable,
             given: dict[str, Any] | list[dict[str, Any]] | None) -> Plan | None:
        if isinstance(given, list):
            if not given:
                return None
            names = tuple(given[0])
        else:
            names = tuple(given or ())
        key = (id(statement), names, isinstance(given, list))
        try:
            return self._plans[key]
        except KeyError:
            plan = Plan.compile(statement, self._dialect, names)
            if plan is not None and isinstance(given, list) and plan.keys:
                plan = None  # executemany with RETURNING: SQLAlchemy batches it itself
            self._plans[key] = plan
            return plan
