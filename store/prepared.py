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
from sqlalchemy.engine import Dialect, Engine, Result
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


class PlanResult(IteratorResult[Any]):
    """A Result as Connection.execute gives one: rows when the statement returns any, closed
    (fetching raises) when it does not, and the cursor's rowcount either way."""

    rowcount: int


@dataclass(frozen=True, slots=True)
class Plan:
    """One marked statement compiled for one dialect and one set of parameter names."""

    sql: str
    # (parameter, whether it must be given, its value if not, its type's processor)
    binds: tuple[tuple[str, bool, Any, Processor], ...]
    returns_rows: bool
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
        if not isinstance(compiled, SQLCompiler) or compiled.positiontup is None \
                or compiled.literal_execute_params or compiled.post_compile_params:
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
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if name in scalar_defaults:
                binds.append((name, False, scalar_defaults[name], process))
            else:
                binds.append((name, bind.required, bind.value, process))
        if isinstance(statement, Select):
            columns = list(statement.selected_columns)
        elif isinstance(statement, UpdateBase) \
                and not statement._return_defaults:  # return_defaults(): no public getter
            columns = list(statement.exported_columns)  # RETURNING's, if any
        else:
            return None
        keys = [c.key for c in columns]
        if None in keys or len(set(keys)) < len(keys):
            return None  # SQLAlchemy makes up the names of unnamed and repeated columns
        results = tuple(c.type.dialect_impl(dialect).result_processor(dialect, None)
                        for c in columns)
        metadata = SimpleResultMetaData([str(k) for k in keys], extra=[(c,) for c in columns])
        return cls(compiled.string, tuple(binds), bool(columns), results, metadata)

    def bind(self, given: dict[str, Any] | list[dict[str, Any]]) -> Any:
        """The parameters in the statement's order, processed by their types; refused as
        Connection.execute refuses them (before anything reaches the database)."""
        many = isinstance(given, list)
        rows = given if isinstance(given, list) else [given]
        bound = []
        for group, row in enumerate(rows):
            values = []
            for name, required, default, process in self.binds:
                if name in row:
                    value = row[name]
                elif required:
                    where = f" in parameter group {group}" if many else ""
                    missing = exc.InvalidRequestError(
                        f"A value is required for bind parameter {name!r}{where}")
                    raise exc.StatementError(str(missing), self.sql, given, missing)
                else:
                    value = default
                if process is not None:
                    try:
                        value = process(value)
                    except Exception as err:  # a type refusing a value
                        raise exc.StatementError(
                            f"({type(err).__module__}.{type(err).__qualname__}) {err}",
                            self.sql, given, err) from err
                values.append(value)
            bound.append(tuple(values))
        return bound if many else bound[0]

    def run(self, dbapi_connection: Any, bound: Any, many: bool, plans: Plans) -> Result[Any]:
        """The statement run on a DBAPI connection with parameters from `bind`; the driver's
        errors raised as SQLAlchemy's, as Connection.execute raises them."""
        try:
            cursor = dbapi_connection.executemany(self.sql, bound) if many \
                else dbapi_connection.execute(self.sql, bound)
            rows = cursor.fetchall() if self.returns_rows else []
        except plans.error as err:
            raise exc.DBAPIError.instance(self.sql, bound, err, plans.error,
                                          hide_parameters=plans.hide_parameters,
                                          dialect=plans.dialect, ismulti=many) from err
        if rows and any(p is not None for p in self.results):
            rows = [tuple(v if p is None else p(v)
                          for p, v in zip(self.results, row, strict=True)) for row in rows]
        result = PlanResult(self.metadata, iter(rows))
        result.rowcount = cursor.rowcount
        if not self.returns_rows:
            result.close()  # as CursorResult is for DML without RETURNING
        return result


class Plans:
    """The plans one engine has compiled, by statement and parameter names."""

    def __init__(self, engine: Engine) -> None:
        self.dialect = engine.dialect
        self.error: type[Exception] = engine.dialect.loaded_dbapi.Error
        self.hide_parameters = engine.hide_parameters
        self._plans: dict[tuple[int, tuple[str, ...], bool], Plan | None] = {}

    def plan(self, statement: Executable, given: object) -> Plan | None:
        """The plan for these parameters: one dict, or a list of dicts with the same keys
        (executemany); None for anything else, or what `Plan.compile` leaves to SQLAlchemy."""
        many = isinstance(given, list)
        if isinstance(given, list):
            if not given or not all(isinstance(p, dict) for p in given):
                return None
            names = tuple(given[0])
            if any(len(p) != len(names) or any(n not in p for n in names) for p in given):
                return None  # rows with other keys get other defaults: SQLAlchemy's job
        elif given is None or isinstance(given, dict):
            names = tuple(given or ())
        else:
            return None
        key = (id(statement), names, many)
        try:
            return self._plans[key]
        except KeyError:
            plan = Plan.compile(statement, self.dialect, names)
            if plan is not None and many and plan.returns_rows:
                plan = None  # executemany with RETURNING: SQLAlchemy batches it itself
            self._plans[key] = plan
            return plan
