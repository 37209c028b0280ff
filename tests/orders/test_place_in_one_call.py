"""Placing on PostgreSQL writes the order and reserves its units in one statement, outside any
transaction (as a request without an idempotency key runs it): when the units are no longer where
the preview said, that statement must write nothing, and the general path must answer."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.errors import DomainError
from core.models import TransitionEvent
from orders.models import Order
from orders.services import checkout, order_place
from warehouses import selectors as warehouse_selectors
from warehouses.interface import ReservationLine
from warehouses.models import Movement, Reservation

from .conftest import KZ_ADDRESS, available, book

pytestmark = pytest.mark.django_db(transaction=True)


def _place(buyer, product, quantity=1) -> Order:
    return order_place(buyer=buyer, storefront="cn-kz", lines=[{"product": product.pk, "quantity": quantity}],
                       ship_to=dict(KZ_ADDRESS))


def _preview_from(monkeypatch, warehouse: str, bond_status: str, quantity: int | None = None):
    def stale_preview(*, lines, storefront_warehouses, buyer_country, refuse_short=False, read=None):
        return [ReservationLine(sku_id=sku, warehouse=warehouse, bond_status=bond_status, quantity=quantity or qty)
                for sku, qty in lines]

    monkeypatch.setattr(checkout.warehouse_selectors, "allocation_preview", stale_preview)


def test_placed_in_autocommit_with_no_transaction_of_its_own(buyer_kz, phone):
    _place(buyer_kz, phone)  # warm
    with CaptureQueriesContext(connection) as ctx:
        order = _place(buyer_kz, phone)

    assert not any(q["sql"].split()[0] in {"BEGIN", "SAVEPOINT", "COMMIT"} for q in ctx.captured_queries)
    assert Order.objects.get(pk=order.pk).status == "placed"
    assert Reservation.objects.get(reference=order.reference).lines.get().warehouse_id == "ALA"
    assert available(phone, "ALA") == 8


def test_units_elsewhere_than_previewed_leave_no_trace_of_the_first_statement(buyer_kz, phone, monkeypatch):
    _preview_from(monkeypatch, "ALA", "released")  # units that a moment ago were released stock

    order = _place(buyer_kz, phone)

    stored = Order.objects.get(pk=order.pk)
    assert stored.road == "bond" and stored.source_warehouse == "ALA"
    assert Order.objects.count() == 1 and Reservation.objects.count() == 1
    assert Movement.objects.filter(kind="reserve").count() == 1
    assert TransitionEvent.objects.filter(machine="order").count() == 1
    assert TransitionEvent.objects.filter(machine="order").get().payload["warehouses"] == ["ALA"]
    assert available(phone, "ALA") == 9


def test_stock_gone_since_the_preview_is_refused_and_nothing_is_written(buyer_kz, phone, monkeypatch):
    _preview_from(monkeypatch, "ALA", "bonded", quantity=11)  # the preview saw 11; there are 10

    with CaptureQueriesContext(connection) as ctx, pytest.raises(DomainError) as refused:
        _place(buyer_kz, phone, quantity=11)

    assert refused.value.code == "insufficient_stock" and "10" in str(refused.value.fields["lines.0"][0])
    # refused from the failed statement's own answer, without a second try through the general path
    assert sum("warehouses_stock_reserve" in q["sql"] for q in ctx.captured_queries) == 1
    assert not Order.objects.exists() and not Reservation.objects.exists()
    assert not TransitionEvent.objects.filter(machine__in=["order", "reservation"]).exists()
    assert available(phone, "ALA") == 10


def test_units_still_where_previewed_are_taken_there_though_another_level_ranks_first_now(buyer_kz, phone, monkeypatch):
    """Released units that arrived after the preview are not preferred: the order keeps the bonded
    units it was quoted for, written by its one statement."""
    _preview_from(monkeypatch, "ALA", "bonded")
    book("ALA", phone, 3, bond_status="released")

    with CaptureQueriesContext(connection) as ctx:
        order = _place(buyer_kz, phone)

    assert sum("warehouses_stock_reserve" in q["sql"] for q in ctx.captured_queries) == 1
    assert not any(q["sql"].split()[0] in {"BEGIN", "SAVEPOINT"} for q in ctx.captured_queries)
    stored = Order.objects.get(pk=order.pk)
    assert stored.road == "bond" and stored.source_warehouse == "ALA"
    [line] = Reservation.objects.get(reference=order.reference).lines.all()
    assert (line.bond_status, line.quantity) == ("bonded", 1)
    [movement] = Movement.objects.filter(kind="reserve", reference=order.reference)
    assert (movement.bond_status, movement.quantity, movement.reserved_delta) == ("bonded", 1, 1)
    assert TransitionEvent.objects.filter(machine="reservation", object_id=line.reservation_id).count() == 1
    assert available(phone, "ALA") == 12  # 9 bonded and the 3 released


def test_a_short_line_beside_a_line_still_where_previewed_is_refused_and_nothing_is_written(buyer_kz, phones, monkeypatch):
    def preview(*, lines, storefront_warehouses, buyer_country, refuse_short=False, read=None):
        return [ReservationLine(sku_id=sku, warehouse="ALA", bond_status="bonded", quantity=qty) for sku, qty in lines]

    monkeypatch.setattr(checkout.warehouse_selectors, "allocation_preview", preview)  # saw 11 of the second; there are 10
    lines = [{"product": phones[0].pk, "quantity": 2}, {"product": phones[1].pk, "quantity": 11}]

    with pytest.raises(DomainError) as refused:
        order_place(buyer=buyer_kz, storefront="cn-kz", lines=lines, ship_to=dict(KZ_ADDRESS))

    assert refused.value.code == "insufficient_stock" and list(refused.value.fields) == ["lines.1"]
    assert not Order.objects.exists() and not Reservation.objects.exists() and not Movement.objects.filter(kind="reserve").exists()
    assert [available(p, "ALA") for p in phones] == [10, 10, 10]


def test_a_changed_rule_reaches_the_next_order_with_the_version_read_with_the_storefront(buyer_kz, phone):
    """The customs rules' version comes with the storefront's statement, not a query of its own; a
    rule changed between two orders still gives the second order the new figure."""
    from customs.models import ParcelRule

    before = _place(buyer_kz, phone)
    assert before.taxes_minor == 0  # under the duty-free allowance of a parcel into Kazakhstan
    ParcelRule.objects.filter(countries__contains="KZ").update(value_limit=1)
    with CaptureQueriesContext(connection) as ctx:
        after = _place(buyer_kz, phone)

    assert "SELECT version FROM customs_rulesstamp WHERE id = 1" not in [q["sql"] for q in ctx.captured_queries]
    assert after.taxes_minor > before.taxes_minor


def test_the_preview_read_with_the_storefront_is_the_allocation_preview(buyer_kz, phones):
    """The storefront statement brings the allocation preview (warehouses' query inside it): the same
    levels, units and order as the preview read alone, released units first, a short line short."""
    book("ALA", phones[0], 2, bond_status="released")
    lines = [{"product": phones[0].pk, "quantity": 5}, {"product": phones[1].pk, "quantity": 1},
             {"product": phones[2].pk, "quantity": 11}]
    storefront = checkout._storefront("cn-kz", products=[p.pk for p in phones],
                                      preview=checkout._previewing(lines, "KZ"))
    by_sku = [(p.sku_id, line["quantity"]) for p, line in zip(phones, lines, strict=True)]

    def preview(**read):
        return warehouse_selectors.allocation_preview(lines=by_sku[:2], storefront_warehouses=["ALA"],
                                                      buyer_country="KZ", **read)

    rows = storefront.previewed[1]
    assert storefront.previewed[0] == "KZ"
    assert preview(read=[row for row in rows if row[0] != phones[2].sku_id]) == preview() == [
        ReservationLine(sku_id=phones[0].sku_id, warehouse="ALA", bond_status="released", quantity=2),
        ReservationLine(sku_id=phones[0].sku_id, warehouse="ALA", bond_status="bonded", quantity=3),
        ReservationLine(sku_id=phones[1].sku_id, warehouse="ALA", bond_status="bonded", quantity=1),
    ]
    short = [row for row in rows if row[0] == phones[2].sku_id]
    assert short == [[phones[2].sku_id, "ALA", "bonded", 10]]  # short: every unit there is, whole
    assert warehouse_selectors.allocation_preview(lines=by_sku, storefront_warehouses=["ALA"], buyer_country="KZ",
                                                  read=rows) is None


def test_a_malformed_line_previews_nothing(buyer_kz, phones):
    assert checkout._previewing([{"product": phones[0].pk, "quantity": 0}], "KZ") is None
    assert checkout._previewing([{"product": phones[0].pk, "quantity": 1}] * 2, "KZ") is None  # a repeated product
    assert checkout._previewing([{"product": True, "quantity": 1}], "KZ") is None
    assert checkout._previewing([], "KZ") is None
    assert checkout._previewing([{"product": phones[0].pk, "quantity": 1}], "KZ") == ([(phones[0].pk, 1)], "KZ")
