"""The escrow hold's status follows its machine: every move an event, a refused move books nothing."""

import ast
from decimal import Decimal
from pathlib import Path

import pytest

from core.access import SYSTEM_ACTOR
from core.errors import DomainError
from core.money import Money
from core.states import history
from payments import services
from payments.interface import Owner
from payments.models import EscrowHold, Transaction
from payments.states import ESCROW_MACHINE, EscrowStatus

from .helpers import assert_ledger_consistent, wallet_minor

pytestmark = pytest.mark.django_db


def cny(amount: str) -> Money:
    return Money.of(amount, "CNY")


def moves(hold):
    return [(e.from_state, e.to_state, e.actor_label) for e in history(hold)]


def test_released_and_refunded_are_final():
    assert set(ESCROW_MACHINE.targets(EscrowStatus.HELD)) == {EscrowStatus.RELEASED, EscrowStatus.REFUNDED}
    assert ESCROW_MACHINE.targets(EscrowStatus.RELEASED) == ESCROW_MACHINE.targets(EscrowStatus.REFUNDED) == []


def test_a_hold_is_born_held_and_its_release_is_an_event(alice, bob, fund):
    fund(Owner.user(alice), "50.00", "CNY")
    info = services.escrow_hold(payer=Owner.user(alice), amount=cny("40.00"), reference="order:1", actor=alice)
    services.escrow_release(reference="order:1", payee=Owner.user(bob), commission_rate=Decimal("0.1"), actor=SYSTEM_ACTOR)
    hold = EscrowHold.objects.get(reference="order:1")
    assert hold.status == EscrowStatus.RELEASED and (hold.released_minor, hold.commission_minor) == (4000, 400)
    assert moves(hold) == [("", "held", "alice"), ("held", "released", "system")]
    created, released = history(hold)
    assert created.payload == {"amount": cny("40.00").to_api(), "txn": info.id}
    assert released.payload["payee"] == f"user:{bob.pk}" and released.payload["commission"] == cny("4.00").to_api()


def test_a_partial_refund_keeps_it_held_and_the_last_one_moves_it_to_refunded(alice, fund):
    fund(Owner.user(alice), "50.00", "CNY")
    services.escrow_hold(payer=Owner.user(alice), amount=cny("40.00"), reference="order:2", actor=alice)
    services.escrow_refund(reference="order:2", amount=cny("15.00"), actor=SYSTEM_ACTOR)
    hold = EscrowHold.objects.get(reference="order:2")
    assert (hold.status, hold.refunded_minor) == (EscrowStatus.HELD, 1500)
    assert moves(hold) == [("", "held", "alice")]  # amounts moved in the ledger, not the status
    services.escrow_refund(reference="order:2", actor=alice)  # the payer cancels: the rest goes back
    hold.refresh_from_db()
    assert (hold.status, hold.refunded_minor) == (EscrowStatus.REFUNDED, 4000)
    assert moves(hold) == [("", "held", "alice"), ("held", "refunded", "alice")]
    assert history(hold).last().payload["refunded"] == cny("25.00").to_api()
    assert wallet_minor(Owner.user(alice), "CNY") == 5000
    assert_ledger_consistent()


def test_a_seller_may_not_refund_nor_release_and_nothing_is_booked(alice, fund, seller_company):
    seller, company = seller_company
    fund(Owner.user(alice), "10.00", "CNY")
    services.escrow_hold(payer=Owner.user(alice), amount=cny("10.00"), reference="order:3", actor=alice)
    booked = Transaction.objects.count()
    with pytest.raises(DomainError) as err:
        services.escrow_refund(reference="order:3", actor=seller)
    assert err.value.code == "transition_not_permitted" and err.value.status == 403
    with pytest.raises(DomainError) as err:
        services.escrow_release(reference="order:3", payee=Owner.company(company.pk), commission_rate=Decimal("0"),
                                actor=seller)
    assert err.value.code == "transition_not_permitted"
    hold = EscrowHold.objects.get(reference="order:3")
    assert (hold.status, hold.refunded_minor, hold.released_minor) == (EscrowStatus.HELD, 0, 0)
    assert Transaction.objects.count() == booked and len(moves(hold)) == 1


def test_a_buyer_may_not_refund_someone_elses_hold(alice, bob, fund):
    fund(Owner.user(alice), "10.00", "CNY")
    services.escrow_hold(payer=Owner.user(alice), amount=cny("10.00"), reference="order:4", actor=alice)
    with pytest.raises(DomainError) as err:
        services.escrow_refund(reference="order:4", actor=bob)
    assert err.value.code == "permission_denied" and err.value.status == 403
    assert wallet_minor(Owner.user(bob), "CNY") == 0 and wallet_minor(Owner.user(alice), "CNY") == 0
    assert EscrowHold.objects.get(reference="order:4").status == EscrowStatus.HELD


def _status_writes(path: Path) -> list[str]:
    """``x.status = ...``, ``status=`` in ``update()`` or ``save(update_fields=[..."status"...])``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Attribute) and t.attr == "status" for t in targets):
                found.append(f"{path}:{node.lineno}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in {"update", "bulk_update"} and any(k.arg == "status" for k in node.keywords):
                found.append(f"{path}:{node.lineno}")
            fields = [k.value for k in node.keywords if k.arg == "update_fields"]
            if node.func.attr == "save" and any("status" in ast.literal_eval(f) for f in fields):
                found.append(f"{path}:{node.lineno}")
    return found


def test_no_payments_code_writes_a_status_but_the_machines():
    """Escrow holds and payouts change status only through core.states.transition."""
    root = Path(services.__file__).resolve().parents[1]
    writes = [hit for path in sorted(root.rglob("*.py")) if "migrations" not in path.parts for hit in _status_writes(path)]
    assert writes == []
