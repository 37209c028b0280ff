"""Payouts: requested -> processing -> paid through Celery, or failed with the money returned."""

import pytest

from core.access import SYSTEM_ACTOR
from core.errors import DomainError
from core.money import Money
from core.states import history
from payments import services
from payments.interface import Owner
from payments.models import Payout

from ..conftest import wait_for
from .helpers import assert_ledger_consistent, platform_minor, wallet_minor


@pytest.mark.django_db(transaction=True)
def test_a_payout_is_paid_by_the_worker(celery_worker, seller_company, fund):
    user, company = seller_company
    owner = Owner.company(company.pk)
    fund(owner, "500.00", "KZT")
    payout = services.payout_request(owner=owner, amount=Money.of("200.00", "KZT"), actor=user)
    assert wallet_minor(owner, "KZT") == 30000
    wait_for(lambda: Payout.objects.get(pk=payout.pk).status == "paid")
    payout.refresh_from_db()
    assert payout.gateway_reference == f"SIM-PAYOUT-{payout.pk}"
    assert [(e.from_state, e.to_state) for e in history(payout)] == [
        ("", "requested"), ("requested", "processing"), ("processing", "paid")]
    assert history(payout)[0].actor == user
    assert platform_minor("payouts_pending", "KZT") == 0
    assert_ledger_consistent()


@pytest.mark.django_db
def test_a_failed_payout_returns_the_money(seller_company, fund):
    user, company = seller_company
    owner = Owner.company(company.pk)
    fund(owner, "100.00", "KZT")
    payout = services.payout_request(owner=owner, amount=Money.of("50.13", "KZT"), actor=user)
    services.payout_process(payout_id=payout.pk)
    payout.refresh_from_db()
    assert payout.status == "failed" and "rejected" in payout.failure_reason
    assert wallet_minor(owner, "KZT") == 10000
    # running the task again changes nothing more
    services.payout_process(payout_id=payout.pk)
    assert wallet_minor(owner, "KZT") == 10000
    assert_ledger_consistent()


@pytest.mark.django_db
def test_a_paid_payout_cannot_fail_afterwards(seller_company, fund):
    user, company = seller_company
    owner = Owner.company(company.pk)
    fund(owner, "100.00", "KZT")
    payout = services.payout_request(owner=owner, amount=Money.of("10.00", "KZT"), actor=user)
    services.payout_process(payout_id=payout.pk)
    with pytest.raises(DomainError) as err:
        services.payout_fail(payout=payout, reason="late", actor=SYSTEM_ACTOR)
    assert err.value.code == "illegal_transition"
    assert wallet_minor(owner, "KZT") == 9000


@pytest.mark.django_db
def test_a_seller_cannot_move_its_own_payout(seller_company, fund):
    user, company = seller_company
    fund(Owner.company(company.pk), "100.00", "KZT")
    payout = services.payout_request(owner=Owner.company(company.pk), amount=Money.of("10.00", "KZT"), actor=user)
    with pytest.raises(DomainError) as err:
        services.payout_fail(payout=payout, reason="mine", actor=user)
    assert err.value.code == "transition_not_permitted"
