"""core.sql: the hot paths' hand-built statements write what the ORM would, and a status move whose
row had moved writes no event."""

import json

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.access import BUYER, has_role
from core.errors import DomainError
from core.models import TransitionEvent
from core.states import create, transition
from tests.testapp.models import Shipment


@pytest.mark.django_db
def test_an_object_is_born_with_its_event_in_one_statement(buyer):
    shipment = Shipment(owner=buyer, note="first")
    has_role(buyer, BUYER)  # the actor's roles, read once per request
    ContentType.objects.get_for_model(Shipment)  # cached per process
    with CaptureQueriesContext(connection) as ctx:
        event = create(shipment, actor=buyer, place="TAS", payload={"n": 1})

    assert len(ctx.captured_queries) == 1, ctx.captured_queries
    assert ctx.captured_queries[0]["sql"].startswith("WITH h AS (INSERT")
    stored = Shipment.objects.get(pk=shipment.pk)
    assert (stored.owner_id, stored.status, stored.note) == (buyer.pk, "draft", "first")
    row = TransitionEvent.objects.get(pk=event.pk)
    assert (row.machine, row.object_id, row.from_state, row.to_state, row.actor_id, row.place, row.payload) == (
        "shipment", shipment.pk, "", "draft", buyer.pk, "TAS", {"n": 1})
    assert not shipment._state.adding


@pytest.mark.django_db
def test_rows_written_with_their_head_get_their_ids_in_order(buyer):
    head = Shipment(pk=10_000, owner=buyer, note="head")
    rows = [Shipment(owner=buyer, note=f"row {i}") for i in range(3)]

    create(head, rows=rows, actor=buyer)

    assert [Shipment.objects.get(pk=row.pk).note for row in rows] == ["row 0", "row 1", "row 2"]
    assert TransitionEvent.objects.get(object_id=head.pk, machine="shipment").to_state == "draft"


@pytest.mark.django_db
def test_a_locked_move_of_a_row_that_moved_meanwhile_writes_nothing(buyer):
    shipment = Shipment(owner=buyer)
    create(shipment, actor=buyer)
    with transaction.atomic():
        stale = Shipment.objects.select_for_update().get(pk=shipment.pk)
        Shipment.objects.filter(pk=shipment.pk).update(status="cancelled")  # as if another path had moved it
        with pytest.raises(DomainError) as err:
            transition(stale, "submitted", actor=buyer, locked=True)

    assert err.value.code == "conflict"
    assert Shipment.objects.get(pk=shipment.pk).status == "cancelled"
    assert list(TransitionEvent.objects.filter(object_id=shipment.pk).values_list("to_state", flat=True)) == ["draft"]


@pytest.mark.django_db
def test_a_locked_move_is_one_statement_with_its_event(buyer):
    shipment = Shipment(owner=buyer)
    create(shipment, actor=buyer)
    with transaction.atomic():
        locked = Shipment.objects.select_for_update().get(pk=shipment.pk)
        has_role(buyer, BUYER)
        with CaptureQueriesContext(connection) as ctx:
            event = transition(locked, "submitted", actor=buyer, reason="ready", locked=True)

    assert len(ctx.captured_queries) == 1
    assert Shipment.objects.get(pk=shipment.pk).status == "submitted" == locked.status
    row = TransitionEvent.objects.get(pk=event.pk)
    assert (row.object_id, row.from_state, row.to_state, row.reason) == (shipment.pk, "draft", "submitted", "ready")


@pytest.mark.django_db
def test_update_rows_writes_each_rows_values_in_one_statement_where_they_still_match(buyer, other_buyer):
    """core.sql.update_rows: what bulk_update (or a Case per row) writes, in one UPDATE bound
    server-side: each row its own values, a row without a column keeps it, the common columns on
    every row, and a row no longer matching ``where`` left alone."""
    from core import sql

    a, b, c, moved = (Shipment.objects.create(owner=buyer, note=f"n{i}") for i in range(4))
    Shipment.objects.filter(pk=moved.pk).update(status="submitted")

    with CaptureQueriesContext(connection) as ctx:
        count = sql.update_rows(Shipment, {a.pk: {"note": "it's a"}, b.pk: {"note": "b", "owner": other_buyer.pk}, c.pk: {},
                                           moved.pk: {"note": "never"}},
                                common={"status": "cancelled"}, where={"status": "draft"})

    assert count == 3 and len(ctx.captured_queries) == 1
    rows = {s.pk: (s.note, s.owner_id, s.status) for s in Shipment.objects.all()}
    assert rows == {a.pk: ("it's a", buyer.pk, "cancelled"), b.pk: ("b", other_buyer.pk, "cancelled"),
                    c.pk: ("n2", buyer.pk, "cancelled"), moved.pk: ("n3", buyer.pk, "submitted")}


@pytest.mark.django_db
def test_insert_rows_writes_what_bulk_create_writes_in_one_statement(buyer):
    """core.sql.insert_rows: a batch's columns sent as binary arrays; the same rows as bulk_create
    (JSON with quotes, a column of NULLs, auto times), their ids set in order."""
    from core import sql

    ct = ContentType.objects.get_for_model(Shipment)

    def events(start):
        return [TransitionEvent(machine="shipment", content_type=ct, object_id=start + i, from_state="draft",
                                to_state="submitted", at=timezone.now(), reason='a "quoted" \\ reason', place="TAS",
                                payload={"n": i, "text": 'say "hi"', "list": [1, None, "x"]}) for i in range(3)]

    with CaptureQueriesContext(connection) as ctx:
        rows = events(100)
        sql.insert_rows(rows)
    assert len(ctx.captured_queries) == 1
    reference = events(200)
    TransitionEvent.objects.bulk_create(reference)

    def stored(objs):
        found = {e.pk: e for e in TransitionEvent.objects.filter(pk__in=[o.pk for o in objs])}
        return [(found[o.pk].object_id, found[o.pk].reason, found[o.pk].place, found[o.pk].payload, found[o.pk].actor_id)
                for o in objs]

    assert [o.pk for o in rows] == sorted(o.pk for o in rows)
    assert [(oid - 100, *rest) for oid, *rest in stored(rows)] == [(oid - 200, *rest) for oid, *rest in stored(reference)]
    assert all(not o._state.adding for o in rows)


@pytest.mark.django_db
def test_a_prepared_statement_reads_its_placeholders_and_percent_signs_as_psycopg_would():
    from core import sql

    many = list(range(60))  # past the 50 parameters of psycopg's own cache of converted statements
    statement = "SELECT " + " + ".join(["%s"] * len(many)) + ", '5%%' LIKE '5%%', format('%%s', %s)"
    assert sql.fetch(statement, [*many, "x"]) == [(sum(many), True, "x")]
    assert sql.fetch(statement, [*many[::-1], "y"]) == [(sum(many), True, "y")]  # the same statement, prepared
    with pytest.raises(ValueError, match="%s placeholders only"):
        sql.fetch("SELECT %(name)s", {"name": 1})


def _prepared_here(text: str) -> int:
    from core import sql

    return sql.fetch("SELECT count(*) FROM pg_prepared_statements WHERE statement = %s", [text])[0][0]


@pytest.mark.django_db(transaction=True)
def test_prepared_statements_stay_in_their_transaction(buyer):
    """The first statement of a transaction begins it (psycopg's cursor, with the connection's
    settings), the ones after it run in it (libpq directly): a rollback takes every one back."""
    from core import sql

    with pytest.raises(RuntimeError), transaction.atomic():
        sql.insert([Shipment(owner=buyer, note="first")])
        sql.insert([Shipment(owner=buyer, note="second")])
        assert sql.fetch("SELECT count(*) FROM testapp_shipment WHERE note IN (%s, %s)", ["first", "second"]) == [(2,)]
        raise RuntimeError

    assert not Shipment.objects.filter(note__in=["first", "second"]).exists()
    sql.insert([Shipment(owner=buyer, note="autocommit")])
    assert Shipment.objects.filter(note="autocommit").exists()


@pytest.mark.django_db(transaction=True)
def test_a_prepared_statement_fails_as_djangos_own_do(buyer):
    """A refused statement is Django's IntegrityError, outside and inside a transaction; the
    transaction is then broken as Django's own statements leave it, and the connection works on."""
    from django.db import IntegrityError

    from core import sql

    taken = Shipment.objects.create(owner=buyer, note="taken")
    with pytest.raises(IntegrityError):
        sql.insert([Shipment(pk=taken.pk, owner=buyer)])
    with pytest.raises(IntegrityError), transaction.atomic():
        sql.fetch("SELECT 1", [])
        sql.insert([Shipment(pk=taken.pk, owner=buyer)])
    with transaction.atomic():
        sql.fetch("SELECT 1", [])
        with pytest.raises(IntegrityError), transaction.atomic():
            sql.insert([Shipment(pk=taken.pk, owner=buyer)])
        sql.insert([Shipment(owner=buyer, note="after")])

    assert sorted(Shipment.objects.values_list("note", flat=True)) == ["after", "taken"]


@pytest.mark.django_db
def test_a_statement_is_prepared_once_per_connection_and_parameter_types():
    from core import sql

    statement = "SELECT %s::bigint + 1, %s::text IS NULL"
    text = sql._numbered(statement)
    for n in range(3):
        assert sql.fetch(statement, [n, "x"]) == [(n + 1, False)]
    assert _prepared_here(text) == 1
    assert sql.fetch(statement, [5, None]) == [(6, True)]  # a None has no type: prepared apart
    assert _prepared_here(text) == 2


@pytest.mark.django_db
def test_behind_pgbouncer_nothing_is_prepared():
    from core import sql

    connection.ensure_connection()
    lean = sql._Lean(connection.connection, prepare=False, timezone=connection.timezone)
    text = "SELECT $1::bigint * 2"
    assert lean.execute(text, [21]).fetchall() == [(42,)]
    assert lean.rowcount == 1
    assert _prepared_here(text) == 0


@pytest.mark.django_db(transaction=True)
def test_a_transaction_begun_by_a_prepared_statement_has_the_connections_isolation_level():
    from psycopg import IsolationLevel

    from core import sql

    connection.ensure_connection()
    raw = connection.connection
    raw.isolation_level = IsolationLevel.REPEATABLE_READ
    try:
        with transaction.atomic():
            assert sql.fetch("SELECT current_setting(%s)", ["transaction_isolation"]) == [("repeatable read",)]
    finally:
        raw.isolation_level = None
    with transaction.atomic():
        assert sql.fetch("SELECT current_setting(%s)", ["transaction_isolation"]) == [("read committed",)]


@pytest.mark.django_db
def test_json_through_the_hot_path_reads_back_as_the_standard_library_writes_it(buyer):
    from core import sql

    payload = {"title": "Мёд 蜂蜜 Бал", 7: [1.5, None, True, 2**62], "nested": {"k": ("a", "b")}}
    shipment = Shipment(owner=buyer, note="json")
    event = create(shipment, actor=buyer, payload=payload)

    expected = json.loads(json.dumps(payload))  # int keys as strings, tuples as lists
    assert TransitionEvent.objects.get(pk=event.pk).payload == expected
    assert sql.fetch("SELECT json_build_object('n', %s::bigint, 'xs', json_build_array('ü', 2.5))", [3]) == [
        ({"n": 3, "xs": ["ü", 2.5]},)]
    assert sql.fetch("SELECT %s::jsonb -> '7'", [sql.json_text(payload)])[0][0] == json.dumps(expected["7"])


@pytest.mark.django_db
def test_times_through_the_hot_path_read_as_djangos_cursor_reads_them():
    from core import sql

    statement = "SELECT %s::timestamptz, '2026-03-01 12:00:00+05'::timestamptz, NULL::timestamptz"
    at = timezone.now()
    lean = sql.fetch(statement, [at])[0]
    with connection.cursor() as cursor:
        cursor.execute(statement, [at])
        orm = cursor.fetchone()

    assert lean == orm and lean[0] == at
    assert [v and v.tzinfo for v in lean] == [v and v.tzinfo for v in orm]


@pytest.mark.django_db
def test_parameters_are_what_each_fields_own_preparation_gives(buyer):
    """The hot path takes a plain value as its field would prepare it: the same values of the same
    types (psycopg's int4 or int8 for an integer column), and anything else through the field."""
    from django.contrib.auth import get_user_model
    from django.utils.functional import lazy

    from core import sql

    content_type = ContentType.objects.get_for_model(Shipment)
    events = [
        TransitionEvent(machine="shipment", content_type=content_type, object_id=7, from_state="", to_state=Shipment.Status.DRAFT,
                        actor=buyer, actor_label="buyer", at=timezone.now(), payload={"a": [1, "b"]}),
        TransitionEvent(machine=lazy(lambda: "shipment", str)(), content_type_id=str(content_type.pk), object_id=True,
                        from_state="draft", to_state="submitted", actor=None, actor_label="", at=timezone.now(), payload={}),
    ]
    users = [get_user_model()(username="x", password="!", is_active=True, is_staff=False),
             get_user_model()(username="y", password="!", is_active=1, is_staff=None)]

    for objs in (events, users, [Shipment(owner=buyer, note="n")]):
        fields = [f for f in type(objs[0])._meta.concrete_fields if not f.primary_key]
        expected = [f.get_db_prep_save(f.pre_save(obj, True), connection) for obj in objs for f in fields]
        got = sql._params(objs, fields)
        assert [getattr(v, "obj", v) for v in got] == [getattr(v, "obj", v) for v in expected]  # JSON in its wrapper
        assert [type(v) for v in got] == [type(v) for v in expected]
