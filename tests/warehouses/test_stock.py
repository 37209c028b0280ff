"""The ledger and its services: receive, reserve, release, expire, ship, adjust, transfer."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core.access import SYSTEM_ACTOR
from core.errors import DomainError
from warehouses import services
from warehouses.models import Movement, Reservation, StockLevel
from warehouses.selectors import available_by_sku

from .conftest import SkuFactory, assert_ledger_consistent, book

pytestmark = pytest.mark.django_db


def level(warehouse, sku, bond="bonded"):
    return StockLevel.objects.get(warehouse_id=warehouse, sku=sku, bond_status=bond)


def reserve(sku, qty, reference="ORD-1", warehouses=("TAS",), country="UZ", ttl=None):
    return services.stock_reserve(lines=[(sku.pk, qty)], storefront_warehouses=list(warehouses), buyer_country=country,
                                  reference=reference, ttl_seconds=ttl, actor=SYSTEM_ACTOR)


def test_receipt_books_units_and_a_movement(sku, wh):
    book("TAS", sku, 40)
    lv = level("TAS", sku)
    assert (lv.on_hand, lv.reserved, lv.available) == (40, 0, 40)
    assert lv.aged_since is not None
    m = Movement.objects.get()
    assert (m.kind, m.quantity, m.on_hand_delta, m.actor_label) == ("receipt", 40, 40, "system")
    assert_ledger_consistent()


def test_reserve_holds_units_and_available_by_sku_sees_it(sku, wh):
    book("TAS", sku, 10)
    res = reserve(sku, 4)
    assert res.status == "active" and res.expires_at is not None
    assert [(ln.warehouse, ln.bond_status, ln.quantity) for ln in res.lines] == [("TAS", "bonded", 4)]
    assert available_by_sku([sku.pk], ["TAS"]) == {sku.pk: 6}
    assert (level("TAS", sku).on_hand, level("TAS", sku).reserved) == (10, 4)
    assert_ledger_consistent()


def test_available_by_sku_is_one_query_and_zero_for_unknown(sku, wh, django_assert_num_queries):
    book("TAS", sku, 3)
    book("TAS", sku, 2, "released")
    other = SkuFactory(company=sku.company)
    with django_assert_num_queries(1):
        assert available_by_sku([sku.pk, other.pk], ["TAS", "ALA"]) == {sku.pk: 5, other.pk: 0}


def test_short_stock_is_refused_naming_the_line_and_nothing_is_held(sku, wh):
    other = SkuFactory(company=sku.company)
    book("TAS", sku, 10)
    book("TAS", other, 1)
    with pytest.raises(DomainError) as err:
        services.stock_reserve(lines=[(sku.pk, 5), (other.pk, 2)], storefront_warehouses=["TAS"], buyer_country="UZ",
                               reference="ORD-9", ttl_seconds=None, actor=SYSTEM_ACTOR)
    assert err.value.code == "insufficient_stock" and err.value.status == 409
    assert list(err.value.fields) == ["lines.1"] and "Only 1 available" in err.value.fields["lines.1"][0]
    # all or nothing: the first line's units were given back with the rolled-back transaction
    assert level("TAS", sku).reserved == 0
    assert not Reservation.objects.filter(reference="ORD-9").exists()
    assert not Movement.objects.filter(kind="reserve").exists()


def test_reserve_is_idempotent_per_reference(sku, wh):
    book("TAS", sku, 10)
    first = reserve(sku, 3)
    again = reserve(sku, 3)
    assert again == first
    assert level("TAS", sku).reserved == 3
    with pytest.raises(DomainError) as err:
        reserve(sku, 4)
    assert err.value.code == "reservation_conflict" and "reference" in err.value.fields


def test_allocation_prefers_the_buyers_country_then_released_then_priority(sku, wh):
    book("ALA", sku, 5, "released")  # another country: last resort
    book("TAS", sku, 5, "bonded")
    book("TAS", sku, 2, "released")
    res = reserve(sku, 8, warehouses=("TAS", "ALA"))
    # Everything in the buyer's country first (released before bonded), then one unit from abroad.
    assert sorted((ln.warehouse, ln.bond_status, ln.quantity) for ln in res.lines) == [
        ("ALA", "released", 1), ("TAS", "bonded", 5), ("TAS", "released", 2)]
    assert level("TAS", sku, "released").available == 0
    assert level("ALA", sku, "released").available == 4


def test_allocation_takes_released_stock_first_in_the_buyers_country(sku, wh):
    book("TAS", sku, 5, "bonded")
    book("TAS", sku, 5, "released")
    res = reserve(sku, 3)
    assert [(ln.bond_status, ln.quantity) for ln in res.lines] == [("released", 3)]


@pytest.mark.parametrize("qty", [0, -1, 10**9, "many"])
def test_bad_quantities_are_refused_with_the_field(sku, wh, qty):
    book("TAS", sku, 10)
    with pytest.raises(DomainError) as err:
        reserve(sku, qty)
    assert err.value.status == 400 and "lines.0.quantity" in err.value.fields
    assert level("TAS", sku).reserved == 0


def test_unknown_sku_and_warehouse_are_refused(sku, wh):
    with pytest.raises(DomainError) as err:
        services.stock_reserve(lines=[(999999, 1)], storefront_warehouses=["TAS"], buyer_country="UZ",
                               reference="R", ttl_seconds=None, actor=SYSTEM_ACTOR)
    assert err.value.code == "unknown_sku" and "lines.0.sku" in err.value.fields
    with pytest.raises(DomainError) as err:
        reserve(sku, 1, warehouses=("NOPE",))
    assert err.value.code == "unknown_warehouse"


def test_release_returns_units_once(sku, wh):
    book("TAS", sku, 10)
    reserve(sku, 4)
    assert services.stock_release(reference="ORD-1", actor=SYSTEM_ACTOR).status == "released"
    assert services.stock_release(reference="ORD-1", actor=SYSTEM_ACTOR).status == "released"
    assert level("TAS", sku).reserved == 0
    assert Movement.objects.filter(kind="unreserve").count() == 1
    assert_ledger_consistent()


def test_expiry_returns_units_of_due_reservations_only(sku, wh):
    book("TAS", sku, 10)
    reserve(sku, 2, reference="DUE")
    reserve(sku, 3, reference="LATER")
    Reservation.objects.filter(reference="DUE").update(expires_at=timezone.now() - timedelta(seconds=1))
    assert services.reservations_expire() == 1
    assert Reservation.objects.get(reference="DUE").status == "expired"
    assert Reservation.objects.get(reference="LATER").status == "active"
    assert level("TAS", sku).reserved == 3
    assert_ledger_consistent()


def test_a_kept_reservation_never_expires(sku, wh):
    book("TAS", sku, 10)
    reserve(sku, 2, ttl=1)
    services.stock_keep(reference="ORD-1", actor=SYSTEM_ACTOR)
    assert services.reservations_expire(now=timezone.now() + timedelta(days=1)) == 0
    assert level("TAS", sku).reserved == 2


def test_release_from_bond_moves_the_reserved_units_to_released_stock_once(sku, wh):
    book("TAS", sku, 10, "bonded")
    book("TAS", sku, 1, "released")
    book("ALA", sku, 5, "bonded")
    # TAS first (the buyer's country), its released unit first, then its 10 bonded, then 2 bonded from ALA
    services.stock_reserve(lines=[(sku.pk, 13)], storefront_warehouses=["TAS", "ALA"], buyer_country="UZ",
                           reference="ORD-1", ttl_seconds=None, actor=SYSTEM_ACTOR)
    res = services.stock_release_from_bond(reference="ORD-1", actor=SYSTEM_ACTOR)

    assert sorted((ln.warehouse, ln.bond_status, ln.quantity) for ln in res.lines) == [
        ("ALA", "bonded", 2), ("TAS", "released", 1), ("TAS", "released", 10)]
    moves = list(Movement.objects.filter(reference="ORD-1", kind="release_from_bond").order_by("id")
                 .values_list("warehouse_id", "bond_status", "quantity", "on_hand_delta", "reserved_delta"))
    assert moves == [("TAS", "bonded", -10, -10, -10), ("TAS", "released", 10, 10, 10)]
    assert (level("TAS", sku).on_hand, level("TAS", sku).reserved) == (0, 0)
    assert (level("TAS", sku, "released").on_hand, level("TAS", sku, "released").reserved) == (11, 11)
    assert (level("ALA", sku).on_hand, level("ALA", sku).reserved) == (5, 2)  # sold across a border: stays bonded
    assert_ledger_consistent()

    # a second call (customs' callback delivered twice) changes nothing
    again = services.stock_release_from_bond(reference="ORD-1", actor=SYSTEM_ACTOR)
    assert again.lines == res.lines
    assert Movement.objects.filter(kind="release_from_bond").count() == 2

    # the released units ship from the released level; a cancel would have returned them there
    services.stock_confirm_shipment(reference="ORD-1", actor=SYSTEM_ACTOR)
    assert sorted(Movement.objects.filter(reference="ORD-1", kind="ship").values_list("warehouse_id", "bond_status", "quantity")) \
        == [("ALA", "bonded", 2), ("TAS", "released", 1), ("TAS", "released", 10)]
    assert (level("TAS", sku, "released").on_hand, level("TAS", sku, "released").reserved) == (0, 0)
    assert services.stock_release_from_bond(reference="ORD-1", actor=SYSTEM_ACTOR).status == "shipped"
    assert_ledger_consistent()


def test_release_from_bond_then_cancel_returns_released_units(sku, wh):
    book("TAS", sku, 10, "bonded")
    reserve(sku, 4, country="UZ")
    services.stock_release_from_bond(reference="ORD-1", actor=SYSTEM_ACTOR)
    services.stock_release(reference="ORD-1", actor=SYSTEM_ACTOR)
    assert (level("TAS", sku).on_hand, level("TAS", sku).reserved) == (6, 0)
    assert (level("TAS", sku, "released").on_hand, level("TAS", sku, "released").reserved) == (4, 0)
    assert_ledger_consistent()


def test_release_from_bond_of_a_closed_reservation_is_a_conflict(sku, wh):
    book("TAS", sku, 10, "bonded")
    reserve(sku, 4, country="UZ")
    services.stock_release(reference="ORD-1", actor=SYSTEM_ACTOR)
    with pytest.raises(DomainError) as err:
        services.stock_release_from_bond(reference="ORD-1", actor=SYSTEM_ACTOR)
    assert err.value.code == "conflict" and err.value.status == 409
    with pytest.raises(DomainError) as err:
        services.stock_release_from_bond(reference="NOPE", actor=SYSTEM_ACTOR)
    assert err.value.status == 404
    assert not Movement.objects.filter(kind="release_from_bond").exists()


def test_bonded_stock_sold_into_its_country_ships_only_after_customs_releases_it(sku, wh):
    book("TAS", sku, 10, "bonded")
    reserve(sku, 4, country="UZ")
    with pytest.raises(DomainError) as err:
        services.stock_confirm_shipment(reference="ORD-1", actor=SYSTEM_ACTOR)
    assert err.value.code == "customs_not_cleared" and err.value.status == 409
    assert (level("TAS", sku).on_hand, level("TAS", sku).reserved) == (10, 4)
    assert not Movement.objects.filter(kind__in=["ship", "release_from_bond"]).exists()

    services.stock_release_from_bond(reference="ORD-1", actor=SYSTEM_ACTOR)
    res = services.stock_confirm_shipment(reference="ORD-1", actor=SYSTEM_ACTOR)
    assert res.status == "shipped"
    kinds = list(Movement.objects.filter(reference="ORD-1").order_by("id").values_list("kind", "bond_status", "quantity"))
    assert kinds == [("reserve", "bonded", 4), ("release_from_bond", "bonded", -4), ("release_from_bond", "released", 4),
                     ("ship", "released", 4)]
    assert (level("TAS", sku).on_hand, level("TAS", sku).reserved) == (6, 0)
    assert (level("TAS", sku, "released").on_hand, level("TAS", sku, "released").reserved) == (0, 0)
    # shipping twice ships nothing more
    services.stock_confirm_shipment(reference="ORD-1", actor=SYSTEM_ACTOR)
    assert Movement.objects.filter(kind="ship").count() == 1
    assert_ledger_consistent()


def test_a_returned_shipment_is_booked_back_as_released_stock_once(sku, seller_company, wh):
    case = SkuFactory(company=seller_company)
    book("TAS", sku, 10, "bonded")
    book("TAS", case, 3, "released")
    services.stock_reserve(lines=[(sku.pk, 4), (case.pk, 2)], storefront_warehouses=["TAS"], buyer_country="KZ",
                           reference="ORD-1", ttl_seconds=None, actor=SYSTEM_ACTOR)
    assert services.stock_return_shipment(reference="ORD-1", actor=SYSTEM_ACTOR) == 0  # nothing shipped yet
    services.stock_confirm_shipment(reference="ORD-1", actor=SYSTEM_ACTOR)

    assert services.stock_return_shipment(reference="ORD-1", actor=SYSTEM_ACTOR) == 6
    assert services.stock_return_shipment(reference="ORD-1", actor=SYSTEM_ACTOR) == 0
    returned = list(Movement.objects.filter(reference="ORD-1", kind="return").order_by("sku_id")
                    .values_list("warehouse_id", "sku_id", "bond_status", "quantity", "on_hand_delta", "reserved_delta"))
    assert returned == sorted([("TAS", sku.pk, "released", 4, 4, 0), ("TAS", case.pk, "released", 2, 2, 0)],
                              key=lambda r: r[1])
    assert (level("TAS", sku).on_hand, level("TAS", sku, "released").on_hand) == (6, 4)
    assert (level("TAS", case, "released").on_hand, level("TAS", case, "released").reserved) == (3, 0)
    with pytest.raises(DomainError) as err:
        services.stock_return_shipment(reference="NOPE", actor=SYSTEM_ACTOR)
    assert err.value.status == 404
    assert_ledger_consistent()


def test_bonded_stock_sold_abroad_ships_without_release(sku, wh):
    book("TAS", sku, 10, "bonded")
    reserve(sku, 1, country="KZ")
    services.stock_confirm_shipment(reference="ORD-1", actor=SYSTEM_ACTOR)
    assert not Movement.objects.filter(kind="release_from_bond").exists()
    assert level("TAS", sku).on_hand == 9


def test_a_shipped_reservation_cannot_be_released_nor_a_released_one_shipped(sku, wh):
    book("TAS", sku, 10)
    reserve(sku, 1, reference="A", country="KZ")
    reserve(sku, 1, reference="B", country="KZ")
    services.stock_confirm_shipment(reference="A", actor=SYSTEM_ACTOR)
    services.stock_release(reference="B", actor=SYSTEM_ACTOR)
    with pytest.raises(DomainError) as err:
        services.stock_release(reference="A", actor=SYSTEM_ACTOR)
    assert err.value.status == 409
    with pytest.raises(DomainError) as err:
        services.stock_confirm_shipment(reference="B", actor=SYSTEM_ACTOR)
    assert err.value.status == 409
    assert level("TAS", sku).on_hand == 9 and level("TAS", sku).reserved == 0


def test_every_reservation_status_is_an_event_of_its_machine_with_who_and_when(sku, wh, make_user, operator_tas):
    from core.states import history

    buyer = make_user("buyer_uz", "buyer")
    book("TAS", sku, 10, "released")
    for ref in ("SHIP", "CANCEL", "DUE"):
        services.stock_reserve(lines=[(sku.pk, 1)], storefront_warehouses=["TAS"], buyer_country="UZ", reference=ref,
                               ttl_seconds=60, actor=buyer)
    services.stock_confirm_shipment(reference="SHIP", actor=operator_tas)
    services.stock_release(reference="CANCEL", actor=buyer)
    services.reservations_expire(now=timezone.now() + timedelta(minutes=2))

    def trail(ref):
        res = Reservation.objects.get(reference=ref)
        return res.status, [(e.machine, e.from_state, e.to_state, e.actor_label) for e in history(res)]

    assert trail("SHIP") == ("shipped", [("reservation", "", "active", "buyer_uz"),
                                         ("reservation", "active", "shipped", "operator_tas")])
    assert trail("CANCEL") == ("released", [("reservation", "", "active", "buyer_uz"),
                                            ("reservation", "active", "released", "buyer_uz")])
    assert trail("DUE") == ("expired", [("reservation", "", "active", "buyer_uz"),
                                        ("reservation", "active", "expired", "system")])
    closed = Reservation.objects.filter(reference__in=["SHIP", "CANCEL", "DUE"]).values_list("closed_at", flat=True)
    assert None not in closed


def test_a_reservation_move_the_actor_may_not_make_moves_no_unit(sku, wh, seller, operator_tas):
    """A seller may neither ship nor release a buyer's reservation: refused before any unit moves."""
    book("TAS", sku, 10, "released")
    reserve(sku, 2, country="KZ")
    for move in (services.stock_release, services.stock_confirm_shipment):
        with pytest.raises(DomainError) as err:
            move(reference="ORD-1", actor=seller)
        assert err.value.code == "transition_not_permitted"
    assert Reservation.objects.get(reference="ORD-1").status == "active"
    assert (level("TAS", sku, "released").on_hand, level("TAS", sku, "released").reserved) == (10, 2)
    assert not Movement.objects.filter(kind__in=["unreserve", "ship"]).exists()
    with pytest.raises(DomainError) as err:  # nor does the warehouse let go of a buyer's units
        services.stock_release(reference="ORD-1", actor=operator_tas)
    assert err.value.code == "transition_not_permitted"


def test_adjust_never_removes_reserved_units(sku, wh, operator_tas):
    book("TAS", sku, 10)
    reserve(sku, 7)
    with pytest.raises(DomainError) as err:
        services.stock_adjust(warehouse="TAS", sku_id=sku.pk, bond_status="bonded", quantity=-4, reason="damaged",
                              actor=operator_tas)
    assert err.value.code == "insufficient_stock" and "3 units" in err.value.fields["quantity"][0]
    m = services.stock_adjust(warehouse="TAS", sku_id=sku.pk, bond_status="bonded", quantity=-3, reason="damaged",
                              note="crushed pallet", actor=operator_tas)
    assert (m.kind, m.quantity, m.reason, m.actor_label) == ("adjust", -3, "damaged", "operator_tas")
    assert level("TAS", sku).available == 0
    assert_ledger_consistent()


def test_adjust_needs_a_reason_and_a_note_for_other(sku, wh, operator_tas):
    with pytest.raises(DomainError) as err:
        services.stock_adjust(warehouse="TAS", sku_id=sku.pk, bond_status="bonded", quantity=3, reason="", actor=operator_tas)
    assert "reason" in err.value.fields
    with pytest.raises(DomainError) as err:
        services.stock_adjust(warehouse="TAS", sku_id=sku.pk, bond_status="bonded", quantity=3, reason="other", actor=operator_tas)
    assert "note" in err.value.fields


def test_an_operator_cannot_touch_another_warehouse(sku, wh, operator_tas):
    book("ALA", sku, 10)
    with pytest.raises(DomainError) as err:
        services.stock_adjust(warehouse="ALA", sku_id=sku.pk, bond_status="bonded", quantity=-1, reason="lost",
                              actor=operator_tas)
    assert err.value.status == 404
    assert level("ALA", sku).on_hand == 10


def test_transfer_neither_creates_nor_loses_units(sku, wh, operator_tas, operator_ala):
    book("TAS", sku, 10, "released")
    transfer = services.transfer_create(source="TAS", destination="ALA", lines=[(sku.pk, "released", 4)], actor=operator_tas)
    assert transfer.status == "in_transit" and transfer.number.startswith("TRF-")
    assert level("TAS", sku, "released").on_hand == 6
    assert not StockLevel.objects.filter(warehouse_id="ALA", sku=sku, on_hand__gt=0).exists()
    with pytest.raises(DomainError):  # the source's operator cannot receive at the destination
        services.transfer_receive(transfer=transfer, actor=operator_tas)
    services.transfer_receive(transfer=transfer, actor=operator_ala)
    # into another country: the units arrive bonded, not cleared for Kazakhstan
    assert level("ALA", sku, "bonded").on_hand == 4
    total = sum(StockLevel.objects.filter(sku=sku).values_list("on_hand", flat=True))
    assert total == 10
    with pytest.raises(DomainError) as err:
        services.transfer_receive(transfer=transfer, actor=operator_ala)
    assert err.value.code == "illegal_transition"
    assert_ledger_consistent()


def test_transfer_of_more_than_available_is_refused_whole(sku, wh, operator_tas):
    other = SkuFactory(company=sku.company)
    book("TAS", sku, 10)
    book("TAS", other, 1)
    with pytest.raises(DomainError) as err:
        services.transfer_create(source="TAS", destination="ALA",
                                 lines=[(sku.pk, "bonded", 5), (other.pk, "bonded", 2)], actor=operator_tas)
    assert err.value.code == "insufficient_stock" and "lines.1.quantity" in err.value.fields
    assert level("TAS", sku).on_hand == 10
    from warehouses.models import Transfer

    assert not Transfer.objects.exists()


def test_cancelled_transfer_puts_units_back(sku, wh, operator_tas):
    book("TAS", sku, 10)
    transfer = services.transfer_create(source="TAS", destination="ALA", lines=[(sku.pk, "bonded", 4)], actor=operator_tas)
    services.transfer_cancel(transfer=transfer, actor=operator_tas)
    assert level("TAS", sku).on_hand == 10
    assert_ledger_consistent()


def test_the_database_refuses_negative_levels_and_ledger_rewrites(sku, wh):
    book("TAS", sku, 2)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockLevel.objects.filter(sku=sku).update(reserved=3)
    with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cur:
        cur.execute("UPDATE warehouses_movement SET quantity = 99")
    with pytest.raises(ValueError):
        Movement.objects.get().delete()


def test_check_stock_reports_drift(sku, wh, capsys):
    book("TAS", sku, 5)
    call_command("check_stock")
    assert "equal the ledger" in capsys.readouterr().out
    StockLevel.objects.filter(sku=sku).update(on_hand=7)
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="1 stock level"):
        call_command("check_stock")


def test_sku_upsert_creates_then_updates(seller, seller_company):
    sku = services.sku_upsert(company_id=seller_company.pk, code="TV-55", name="TV 55", hs_code="852872",
                              origin_country="CN", weight_g=15000, actor=seller)
    again = services.sku_upsert(company_id=seller_company.pk, code="TV-55", name="TV 55 inch", hs_code="852872",
                                origin_country="CN", weight_g=15500, actor=seller)
    assert again.pk == sku.pk and again.name == "TV 55 inch" and again.weight_g == 15500
    with pytest.raises(DomainError) as err:
        services.sku_upsert(company_id=seller_company.pk, code="", name="x", hs_code="12", origin_country="ZZ",
                            weight_g=-1, actor=seller)
    assert set(err.value.fields) == {"code", "hs_code", "origin_country", "weight_g"}
