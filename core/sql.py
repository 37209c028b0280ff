"""Rows in and out of the hot paths without the ORM's per-call query compilation.

The checkout and the ledger run the same few statements thousands of times a second; compiling a
queryset costs 0.3 to 1 ms of CPU each time, more than PostgreSQL takes to run it (profile in
bench/checkout/README.md). Here the SQL of an insert or an update is built once per model and
column set, values go through each field's own ``pre_save`` and ``get_db_prep_save`` (so defaults,
``auto_now`` and JSON are as the ORM writes them), and rows read by hand SQL become instances with
``Model.from_db``. Portable: the same statements run on SQLite and PostgreSQL; on PostgreSQL they
are bound server-side and prepared once per connection (:func:`cursor`), so psycopg does not render
the parameters into the text and the server parses and plans each of them once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import cache, lru_cache

import orjson
from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper

_INSERTS: dict[tuple, tuple[str, list]] = {}
_UPDATES: dict[tuple, str] = {}
_COLUMNS: dict[tuple, str] = {}
_CONVERTERS: dict[tuple, list] = {}
_CHAINS: dict[tuple, tuple] = {}


def columns(model: type[models.Model], alias: str) -> str:
    """``alias.col, alias.col2, ...``: every concrete column of ``model`` in field order, as
    :func:`instance` reads them back."""
    key = (model, alias)
    if key not in _COLUMNS:
        qn = connection.ops.quote_name
        _COLUMNS[key] = ", ".join(f"{alias}.{qn(f.column)}" for f in model._meta.concrete_fields)
    return _COLUMNS[key]


def instance(model: type[models.Model], row: Sequence, start: int = 0) -> models.Model:
    """The ``model`` read from ``row[start:]`` in :func:`columns` order (through each field's
    converters, as a queryset would: JSON decoded, times aware)."""
    fields = model._meta.concrete_fields
    values = list(row[start:start + len(fields)])
    db = _db()
    for i, field, convert in _converters(model):
        values[i] = convert(values[i], field, db)
    return model.from_db(db.alias, None, values)


def _converters(model: type[models.Model]) -> list:
    key = (model, connection.vendor)
    if key not in _CONVERTERS:
        table = model._meta.db_table
        _CONVERTERS[key] = [
            (i, field, convert)
            for i, field in enumerate(model._meta.concrete_fields)
            for convert in [*connection.ops.get_db_converters(field.get_col(table)), *field.get_db_converters(connection)]
        ]
    return _CONVERTERS[key]


def _values(objs: Sequence[models.Model]) -> tuple[str, list, bool]:
    """``INSERT INTO table (columns) VALUES (...), ...`` of ``objs`` (one model), its fields in
    parameter order, and whether their primary keys are given; built once per model and count."""
    model = type(objs[0])
    opts = model._meta
    given = getattr(objs[0], opts.pk.attname) is not None
    key = (model, given, len(objs))
    if key not in _INSERTS:
        fields = [f for f in opts.concrete_fields if given or not f.primary_key]
        qn = connection.ops.quote_name
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        _INSERTS[key] = (f"INSERT INTO {qn(opts.db_table)} ({', '.join(qn(f.column) for f in fields)}) "  # noqa: S608 - names from the model
                         f"VALUES {', '.join([row] * len(objs))}", fields)
    statement, fields = _INSERTS[key]
    return statement, fields, given


def _db():
    """The default database's wrapper itself: each attribute read through the ``connection`` proxy
    looks the wrapper up again in a context-local (a few per parameter of a statement)."""
    return connections[DEFAULT_DB_ALIAS]


def _params(objs: Sequence[models.Model], fields: list) -> list:
    """Each field's value of each of ``objs``, as its ``pre_save`` and ``get_db_prep_save`` give it.

    A value of a plain field (text, integer, boolean, or a foreign key to one) that is already of
    its Python type is taken as those two would return it, without their calls. Those calls were
    7 % of a checkout's Python with eight processes on two cores; an order's parameters now take
    29 µs instead of 49 in one process (bench/checkout/README.md, eleventh round)."""
    db = _db()
    plans = _plans(tuple(fields), type(db.ops))
    params = []
    for obj in objs:
        values = obj.__dict__
        for field, plain, wrap in plans:
            if plain is not None:
                value = values.get(field.attname, _ABSENT)
                if value is None:
                    params.append(None)
                    continue
                if type(value) is plain or (plain is str and isinstance(value, str)):
                    params.append(value if wrap is None else wrap(value))
                    continue
            params.append(field.get_db_prep_save(field.pre_save(obj, True), db))
    return params


_ABSENT = object()
_TEXT = frozenset({models.CharField, models.TextField})
_INTEGER = frozenset({models.IntegerField, models.BigIntegerField, models.SmallIntegerField, models.PositiveIntegerField,
                      models.PositiveBigIntegerField, models.PositiveSmallIntegerField, models.AutoField,
                      models.BigAutoField, models.SmallAutoField})


@cache
def _plans(fields: tuple, ops: type) -> list[tuple]:
    """(field, the Python type its value passes through unchanged or None, the backend's wrapper
    of such an integer or None) for each of ``fields``. Only these exact field classes: a subclass
    may prepare its value otherwise. A text field passes any str (its ``to_python`` returns it as
    it is, a TextChoices member too); an integer or boolean field only its exact type."""
    plans = []
    for field in fields:
        target = field.target_field if type(field) is models.ForeignKey else field
        kind = type(target)
        if kind in _TEXT:
            plans.append((field, str, None))
        elif kind is models.BooleanField:
            plans.append((field, bool, None))
        elif kind in _INTEGER:
            # PostgreSQL's backend wraps each integer in the psycopg type of its column (int4, int8...).
            plans.append((field, int, getattr(ops, "integerfield_type_map", {}).get(target.get_internal_type())))
        else:
            plans.append((field, None, None))
    return plans


def _saved(objs: Sequence[models.Model]) -> None:
    for obj in objs:
        obj._state.adding = False
        obj._state.db = DEFAULT_DB_ALIAS


def insert(objs: Sequence[models.Model]) -> None:
    """INSERT ``objs`` (instances of one model) in one statement; sets their primary keys when the
    database chose them. Like ``bulk_create`` of the same rows, without its compilation."""
    if not objs:
        return
    statement, fields, given = _values(objs)
    pk = type(objs[0])._meta.pk
    if not given:
        statement += f" RETURNING {connection.ops.quote_name(pk.column)}"
    with cursor() as cursor_:
        cursor_.execute(statement, _params(objs, fields))
        if not given:
            for obj, (value,) in zip(objs, cursor_.fetchall(), strict=True):
                setattr(obj, pk.attname, value)
    _saved(objs)


def insert_rows(objs: Sequence[models.Model]) -> None:
    """INSERT a batch of ``objs`` (instances of one model) in one statement, as ``bulk_create``
    writes them (each field's ``pre_save``, so ``auto_now`` and a FileField's storage alike; the
    primary keys the database chose set, in order), but with each column sent as one array in
    PostgreSQL's binary format (``INSERT ... SELECT * FROM unnest(%b::type[], ...)``): nothing
    rendered or escaped in Python. bulk_create's UNNEST quotes every element into a text array
    (a regular expression per quote of each JSON value); a VALUES list bound server-side has a
    thousand placeholders for psycopg to split out of the text. Measured on a hundred rows: 5.7
    ms against 12.6 for transition events, 29 against 52 for customs declarations. Elsewhere
    than PostgreSQL, ``bulk_create``."""
    if not objs:
        return
    model = type(objs[0])
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objs)
        return
    opts = model._meta
    given = getattr(objs[0], opts.pk.attname) is not None
    fields = [f for f in opts.concrete_fields if given or not f.primary_key]
    key = (model, given, "unnest")
    if key not in _INSERTS:
        qn = connection.ops.quote_name
        statement = (f"INSERT INTO {qn(opts.db_table)} ({', '.join(qn(f.column) for f in fields)}) "  # noqa: S608 - names from the model
                     f"SELECT * FROM unnest({', '.join(f'%b::{_cast(f)}[]' for f in fields)})")
        if not given:
            statement += f" RETURNING {qn(opts.pk.column)}"
        _INSERTS[key] = (statement, fields)
    statement, fields = _INSERTS[key]
    db = _db()
    columns = [[f.get_db_prep_save(f.pre_save(obj, True), db) for obj in objs] for f in fields]
    with cursor(prepare=False) as cursor_:
        cursor_.execute(statement, columns)
        if not given:
            for obj, (value,) in zip(objs, cursor_.fetchall(), strict=True):
                setattr(obj, opts.pk.attname, value)
    _saved(objs)


def insert_with_event(head: models.Model, event: models.Model, rows: Sequence[models.Model] = (),
                      link: str = "object_id", then: tuple[str, list] | None = None):
    """INSERT ``head``, its ``rows`` (one model; their link to ``head`` already set, so ``head``'s
    primary key is given) and its first ``event``, whose ``link`` column is ``head``'s primary key:
    one statement on PostgreSQL (data-modifying CTEs), three elsewhere. An object is born with its
    event, without a round trip between them.

    ``then`` (PostgreSQL): a query selecting one value, and its parameters, run in the same
    statement after the inserts (a lower app's write that must stand or fall with them: an order's
    reservation, ``warehouses.services.stock_reserve_call``); its value is returned."""
    if connection.vendor != "postgresql":
        if then is not None:
            raise NotImplementedError("insert_with_event(then=...) is PostgreSQL's")
        insert([head])
        insert(rows)
        setattr(event, link, head.pk)
        insert([event])
        return None
    key = (type(head), head.pk is not None, type(rows[0]) if rows else None, len(rows), type(event), link,
           then[0] if then else None)
    if key not in _CHAINS:
        _CHAINS[key] = _chain(head, rows, event, link, then[0] if then else None)
    statement, head_fields, rows_fields, event_fields = _CHAINS[key]
    params = _params([head], head_fields) + _params(rows, rows_fields) + _params([event], event_fields)
    if then is not None:
        params += then[1]
    with cursor() as cursor_:
        cursor_.execute(statement, params)
        head_id, row_ids, event_id, *value = cursor_.fetchone()
    setattr(head, type(head)._meta.pk.attname, head_id)
    setattr(event, link, head_id)
    setattr(event, type(event)._meta.pk.attname, event_id)
    for row, pk in zip(rows, sorted(row_ids or []), strict=True):  # one INSERT numbers its rows in order
        setattr(row, type(row)._meta.pk.attname, pk)
    _saved([head, *rows, event])
    return value[0] if value else None


def _chain(head: models.Model, rows: Sequence[models.Model], event: models.Model, link: str, then: str | None) -> tuple:
    qn = connection.ops.quote_name
    head_sql, head_fields, _given = _values([head])
    head_pk = qn(type(head)._meta.pk.column)
    parts, rows_fields, rows_ids = [f"h AS ({head_sql} RETURNING {head_pk})"], [], "NULL"
    if rows:
        rows_sql, rows_fields, _ = _values(rows)
        rows_pk = qn(type(rows[0])._meta.pk.column)
        parts.append(f"r AS ({rows_sql} RETURNING {rows_pk})")
        rows_ids = f"(SELECT array_agg({rows_pk}) FROM r)"  # noqa: S608 - names from the model
    event_sql, event_fields, _ = _values([event])
    linked = f"(SELECT {head_pk} FROM h)"  # noqa: S608 - names from the model
    placeholders = ", ".join(linked if f.attname == link else "%s" for f in event_fields)
    event_sql = event_sql[:event_sql.index(" VALUES ")] + f" VALUES ({placeholders})"
    parts.append(f"e AS ({event_sql} RETURNING {qn(type(event)._meta.pk.column)})")
    statement = f"WITH {', '.join(parts)} SELECT (SELECT {head_pk} FROM h), {rows_ids}, (SELECT * FROM e)"  # noqa: S608
    if then is not None:
        # After the inserts: the target list is evaluated in order, so the inserts have run first.
        statement += f", ({then})"
    return statement, head_fields, rows_fields, [f for f in event_fields if f.attname != link]


def update_if(obj: models.Model, expect: dict, values: dict) -> bool:
    """UPDATE ``obj``'s row with ``values`` (attnames) where its columns still hold ``expect``;
    True when the row matched. The conditional update of a status move, compiled once."""
    model = type(obj)
    if any(hasattr(v, "resolve_expression") for v in values.values()):  # F(), Now(): the ORM compiles them
        return model._default_manager.filter(pk=obj.pk, **expect).update(**values) == 1
    opts = model._meta
    key = (model, tuple(values), tuple(expect))
    if key not in _UPDATES:
        qn = connection.ops.quote_name
        sets = ", ".join(f"{qn(opts.get_field(n).column)} = %s" for n in values)
        where = " AND ".join([f"{qn(opts.pk.column)} = %s", *(f"{qn(opts.get_field(n).column)} = %s" for n in expect)])
        _UPDATES[key] = f"UPDATE {qn(opts.db_table)} SET {sets} WHERE {where}"  # noqa: S608 - names from the model
    params = [opts.get_field(n).get_db_prep_save(v, connection) for n, v in values.items()]
    params.append(obj.pk)
    params += [opts.get_field(n).get_db_prep_save(v, connection) for n, v in expect.items()]
    with cursor() as cursor_:
        cursor_.execute(_UPDATES[key], params)
        return cursor_.rowcount == 1


def update_with_event(obj: models.Model, expect: dict, values: dict, event: models.Model, link: str = "object_id") -> bool:
    """:func:`update_if` and, only if the row matched, INSERT ``event`` (its ``link`` column is
    ``obj``'s primary key): one statement on PostgreSQL, two elsewhere. A status move and its
    event without a round trip between them. True when the row matched."""
    if connection.vendor != "postgresql" or any(hasattr(v, "resolve_expression") for v in values.values()):
        if not update_if(obj, expect, values):
            return False
        setattr(event, link, obj.pk)
        insert([event])
        return True
    model = type(obj)
    opts = model._meta
    key = (model, tuple(values), tuple(expect), type(event), link)
    if key not in _CHAINS:
        qn = connection.ops.quote_name
        sets = ", ".join(f"{qn(opts.get_field(n).column)} = %s" for n in values)
        where = " AND ".join([f"{qn(opts.pk.column)} = %s", *(f"{qn(opts.get_field(n).column)} = %s" for n in expect)])
        event_sql, event_fields, _ = _values([event])
        typed = ", ".join(f"u.{qn(opts.pk.column)}" if f.attname == link else f"%s::{_cast(f)}" for f in event_fields)
        statement = (f"WITH u AS (UPDATE {qn(opts.db_table)} SET {sets} WHERE {where} RETURNING {qn(opts.pk.column)}) "  # noqa: S608
                     f"{event_sql[:event_sql.index(' VALUES ')]} SELECT {typed} FROM u "
                     f"RETURNING {qn(type(event)._meta.pk.column)}")
        _CHAINS[key] = (statement, [f for f in event_fields if f.attname != link])
    statement, event_fields = _CHAINS[key]
    params = [opts.get_field(n).get_db_prep_save(v, connection) for n, v in values.items()]
    params.append(obj.pk)
    params += [opts.get_field(n).get_db_prep_save(v, connection) for n, v in expect.items()]
    params += _params([event], event_fields)
    with cursor() as cursor_:
        cursor_.execute(statement, params)
        row = cursor_.fetchone()
    if row is None:
        return False
    setattr(event, link, obj.pk)
    setattr(event, type(event)._meta.pk.attname, row[0])
    _saved([event])
    return True


def update_rows(model: type[models.Model], rows: dict, *, common: dict | None = None, where: dict | None = None) -> int:
    """One UPDATE of the rows ``rows`` (``{pk: {name: value}}``): each row's own values (a row
    without a column keeps its value), ``common`` (``{name: value}``) on every row, only where the
    row's columns still hold ``where`` (``{name: value}``, the same for all rows). Returns the rows
    updated. The rows are joined from a VALUES list, their values bound server-side (not
    prepared: the text changes with the batch): what ``bulk_update`` or a ``Case(When(pk=...))``
    per column writes, without compiling an expression per row and column (milliseconds per
    hundred rows) nor rendering every value into the text. Elsewhere (SQLite) one UPDATE per row."""
    if not rows:
        return 0
    if connection.vendor != "postgresql":
        manager = model._default_manager
        return sum(manager.filter(pk=key, **(where or {})).update(**{**(common or {}), **own})
                   for key, own in sorted(rows.items()) if common or own)
    qn = connection.ops.quote_name
    opts = model._meta
    pk = opts.pk
    names = sorted({name for values in rows.values() for name in values})
    sets, params = [], []
    for name, value in (common or {}).items():
        field = opts.get_field(name)
        sets.append(f"{qn(field.column)} = %s")
        params.append(field.get_db_prep_save(value, connection))
    fields = [opts.get_field(name) for name in names]
    for i, field in enumerate(fields):
        sets.append(f"{qn(field.column)} = CASE WHEN v.h{i} THEN v.c{i} ELSE t.{qn(field.column)} END")
    if not sets:
        return 0
    where_sql = [f"t.{qn(opts.get_field(name).column)} = %s" for name in (where or {})]
    row = "(" + ", ".join([f"%s::{pk.rel_db_type(connection)}", *[f"%s::boolean, %s::{_cast(f)}" for f in fields]]) + ")"
    values = []
    for key in sorted(rows):
        own = rows[key]
        values.append(key)
        for name, field in zip(names, fields, strict=True):
            values += [name in own, field.get_db_prep_save(own[name], connection) if name in own else None]
    columns = ["id", *[n for i in range(len(fields)) for n in (f"h{i}", f"c{i}")]]
    statement = (f"UPDATE {qn(opts.db_table)} AS t SET {', '.join(sets)} "  # noqa: S608 - names from the model
                 f"FROM (VALUES {', '.join([row] * len(rows))}) AS v({', '.join(columns)}) "
                 f"WHERE {' AND '.join([f't.{qn(pk.column)} = v.id', *where_sql])}")
    params += values + [opts.get_field(name).get_db_prep_save(value, connection) for name, value in (where or {}).items()]
    with cursor(prepare=False) as cursor_:
        cursor_.execute(statement, params)
        return cursor_.rowcount


def _cast(field) -> str:
    """The type to cast a parameter to for ``field``'s column (text for a varchar: a value too
    long is refused by the column, not cut by the cast)."""
    db_type = field.db_type(connection)
    return "text" if db_type.startswith("varchar") else db_type


def fetch(sql: str, params: Iterable) -> list[tuple]:
    with cursor() as cursor_:
        cursor_.execute(sql, list(params))
        return cursor_.fetchall()


_PLACEHOLDER = re.compile(r"%(.)", re.S)


@lru_cache(maxsize=1024)
def _numbered(statement: str) -> str:
    """``statement`` as PostgreSQL reads it: its ``%s`` placeholders numbered ``$1, $2...``, ``%%`` as
    ``%``, for libpq (:class:`_Lean`). Converted once per process: converting at every execution,
    as psycopg did past 50 parameters (the order's INSERT with its reservation has 61), cost a
    twentieth of a checkout's CPU (bench/checkout/README.md)."""
    count = 0

    def number(match: re.Match) -> str:
        nonlocal count
        if match.group(1) == "%":
            return "%"
        if match.group(1) != "s":
            raise ValueError(f"a prepared statement takes %s placeholders only: {statement[:80]!r}")
        count += 1
        return f"${count}"

    return _PLACEHOLDER.sub(number, statement)


class _Prepared:
    """Executes with ``prepare=True``: the statement is parsed and planned once per connection, and
    its placeholders numbered once per process (:func:`_numbered`, for :class:`_Lean`)."""

    def _execute(self, sql, params, *ignored_wrapper_args):
        self.db.validate_no_broken_transaction()
        with self.db.wrap_database_errors:
            return self.cursor.execute(_numbered(sql), params)

    def close(self):
        """Kept open: the cursor is the connection's, reused by the next statement."""


class _Lean:
    """Runs a prepared statement with one call into libpq (``PQexecPrepared``, which releases the
    GIL), its values dumped and its rows loaded by psycopg's own adapters, in C. A psycopg cursor
    spent about 25 µs more per statement on its generators, its query object and its result
    bookkeeping in one process, and with eight workers on two cores a ledger transfer's client CPU
    went from 0.28 to 0.21 ms (bench/ledger/README.md, session 26).

    Outside autocommit, the first statement of a transaction begins it, as psycopg would (BEGIN
    with the connection's isolation level, read-only and deferrable settings). A statement is
    prepared once per connection and parameter types (a None has no type), under its own name:
    psycopg's cursors prepare nothing here, so psycopg never deallocates them all at a rollback.
    Behind PgBouncer (``DISABLE_SERVER_SIDE_CURSORS``) nothing is prepared: each statement is
    bound and run by itself."""

    def __init__(self, raw, prepare: bool, timezone):
        import psycopg
        from psycopg import pq
        from psycopg.adapt import PyFormat, Transformer

        self.connection = raw
        self.pgconn = raw.pgconn
        types = psycopg.RawCursor(raw)  # its own copy of the connection's adapters, never executed
        _text_ints(types)
        _fast_json(types)
        _c_times(types, timezone)
        self.tx = Transformer.from_context(types)
        self.prepare = prepare
        self.names: dict[tuple, bytes] = {}
        self.serial = 0  # never reused on a connection: a name forgotten here may live on the server
        self.rows: list = []
        self.rowcount = -1
        self._auto = PyFormat.AUTO
        self._idle = pq.TransactionStatus.IDLE
        self._ok = (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK)
        self._tuples = pq.ExecStatus.TUPLES_OK

    @property
    def closed(self) -> bool:
        return self.connection.closed

    def execute(self, sql: str, params=None):
        params = params or ()
        pgconn = self.pgconn
        if not self.connection.autocommit and pgconn.transaction_status == self._idle:
            self._check(pgconn.exec_(_begin(self.connection)))
        tx = self.tx
        values = tx.dump_sequence(params, [self._auto] * len(params))
        types, formats = tx.types, tx.formats
        if self.prepare:
            key = (sql, types)
            name = self.names.get(key)
            if name is None:
                self.serial += 1
                name = b"karavan_%d" % self.serial
                self._check(pgconn.prepare(name, sql.encode(), types))
                self.names[key] = name
            result = pgconn.exec_prepared(name, values, formats)
        else:
            result = pgconn.exec_params(sql.encode(), values, types, formats)
        self._check(result)
        count = result.command_tuples
        self.rowcount = -1 if count is None else count
        if result.status == self._tuples:
            tx.set_pgresult(result)
            self.rows = tx.load_rows(0, result.ntuples, tuple)
        else:
            self.rows = []
        return self

    def _check(self, result) -> None:
        if result.status in self._ok:
            return
        import psycopg
        from psycopg import errors, pq

        if self.pgconn.status == pq.ConnStatus.BAD:
            raise psycopg.OperationalError(pq.error_message(result))
        error = errors.error_from_result(result, encoding="utf-8")
        if isinstance(error, errors.InvalidSqlStatementName):
            self.names.clear()  # deallocated by someone else: prepared again from the next statement on
        raise error

    def fetchone(self):
        return self.rows.pop(0) if self.rows else None

    def fetchall(self):
        rows, self.rows = self.rows, []
        return rows


def _begin(raw) -> bytes:
    """The BEGIN psycopg sends for ``raw``'s settings."""
    parts = [b"BEGIN"]
    if raw.isolation_level is not None:
        parts.append(b"ISOLATION LEVEL " + raw.isolation_level.name.replace("_", " ").encode())
    if raw.read_only is not None:
        parts.append(b"READ ONLY" if raw.read_only else b"READ WRITE")
    if raw.deferrable is not None:
        parts.append(b"DEFERRABLE" if raw.deferrable else b"NOT DEFERRABLE")
    return b" ".join(parts)


def _text_ints(context) -> None:
    """Integers as bigint and strings as text, whatever their values: a prepared statement's
    parameter types, and so its plan, stay the same (psycopg picks smallint for small numbers,
    unknown for str)."""
    from psycopg.types.numeric import Int8Dumper
    from psycopg.types.string import StrDumper

    context.adapters.register_dumper(int, Int8Dumper)
    context.adapters.register_dumper(str, StrDumper)


def _fast_json(context) -> None:
    """JSON through orjson, several times faster than the standard library's ``json``: the ``json``
    values the hot paths' statements return (rows aggregated by ``json_agg``), and the JSONField
    values they write. Django wraps each of those in ``Jsonb(value, dumps=json.dumps)``; a field
    with an encoder of its own keeps it. ``jsonb`` columns still come back as text for the field to
    decode, as Django registers them. Dumping and loading JSON was a tenth of a checkout's Python
    (bench/checkout/README.md, tenth round)."""
    import json

    from psycopg.types.json import Jsonb, JsonbDumper, JsonLoader

    class Dumper(JsonbDumper):
        def dump(self, obj):
            if obj.dumps is None or obj.dumps is json.dumps:
                return _json(obj.obj)
            return super().dump(obj)

    class Loader(JsonLoader):
        _loads = orjson.loads

    context.adapters.register_dumper(Jsonb, Dumper)
    context.adapters.register_loader("json", Loader)


def _c_times(context, timezone) -> None:
    """timestamptz by psycopg's own loader, in C, where it gives what Django's does: Django's
    replaces the zone of each value with its connection's ``timezone`` in Python (a thirtieth of a
    checkout's Python: three times per order); psycopg's gives the session's zone, which Django
    sets to the same (USE_TZ)."""
    import psycopg
    from psycopg.pq import Format

    if timezone is None or context.connection.info.timezone != timezone:
        return
    oid = psycopg.adapters.types["timestamptz"].oid
    context.adapters.register_loader(oid, psycopg.adapters.get_loader(oid, Format.TEXT))


def json_text(value) -> str:
    """``value`` as JSON text, for a ``%s::jsonb`` parameter of a hot path's statement."""
    return _json(value).decode()


def _json(value) -> bytes:
    """``value`` as JSON by orjson (:func:`_fast_json`), with keys that are not strings written as
    strings, as the standard library writes them."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


class _Bound:
    """Executes bound server-side without preparing: a statement whose text changes with its
    batch's size (``VALUES (...), (...)``), planned each time as Django's own are."""

    def _execute(self, sql, params, *ignored_wrapper_args):
        self.db.validate_no_broken_transaction()
        with self.db.wrap_database_errors:
            return self.cursor.execute(sql, params, prepare=False)

    def close(self):
        """Kept open: the psycopg cursor is the connection's, reused by the next statement."""


class _PreparedCursor(_Prepared, CursorWrapper):
    pass


class _BoundCursor(_Bound, CursorWrapper):
    pass


class _PreparedDebugCursor(_Prepared, CursorDebugWrapper):
    def execute(self, sql, params=None):
        # Logged as written (placeholders, not values): Django's rendering of the values through a
        # client-side cursor fails on some of them (JSON) and would log None.
        with self.debug_sql(sql, params, use_last_executed_query=False):
            return self._execute_with_wrappers(sql, params, many=False, executor=self._execute)


class _BoundDebugCursor(_Bound, CursorDebugWrapper):
    execute = _PreparedDebugCursor.execute


def cursor(*, prepare: bool = True):
    """A cursor on Django's connection, in its transaction, for the hot paths' statements (the
    checkout, the ledger). On PostgreSQL :class:`_Lean`, which prepares each statement once per
    connection and runs it with one call into libpq (``%s`` placeholders still), wrapped like
    Django's own cursors, so that its statements are counted (``connection.queries``,
    ``django_assert_num_queries``) and its errors are Django's. On SQLite, Django's cursor.

    ``prepare=False``: bound server-side all the same, not prepared, for the statements of
    batches (their text changes with their size): psycopg sends the values apart from the text
    instead of quoting each into it in Python (:func:`update_rows`: 22 ms instead of 32 for the
    assessments of a hundred declarations). A batch INSERT sends arrays instead
    (:func:`insert_rows`): a long VALUES list has a thousand placeholders that psycopg splits out
    of the text in Python each time.

    Both are kept on the connection's wrapper while its connection lives (cheap to use, not to
    make); their integers are sent as bigint and their strings as text, so that a
    statement's parameter types, and so its prepared plan, are the same whatever the values
    (psycopg would pick smallint for small numbers, unknown for str).
    """
    db = _db()
    if db.vendor != "postgresql":
        return db.cursor()
    db.ensure_connection()
    raw = db.connection
    kept = getattr(db, "_karavan_cursors", None)
    if kept is None or kept[0].connection is not raw or kept[0].closed:
        import psycopg

        # Not prepared behind PgBouncer in transaction mode (DB_PGBOUNCER), where a prepared
        # statement may not be on the next transaction's server connection.
        server_prepares = not db.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS")
        # Prepared statements run through _Lean ($1 placeholders, numbered by _Prepared); bound
        # ones through a plain cursor (``%b`` binary placeholders: insert_rows).
        kept = (_Lean(raw, server_prepares, db.timezone), psycopg.Cursor(raw))
        _text_ints(kept[1])
        db._karavan_cursors = kept
    if prepare:
        return (_PreparedDebugCursor if db.queries_logged else _PreparedCursor)(kept[0], db)
    return (_BoundDebugCursor if db.queries_logged else _BoundCursor)(kept[1], db)
