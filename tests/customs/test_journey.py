"""The full declaration journey through a real Celery worker, with the duty charged to the payer's
wallet through payments; duplicated tasks change nothing more."""

from decimal import Decimal

import pytest

from core.access import SYSTEM_ACTOR
from core.models import Company, Country
from core.money import Money
from core.states import history
from customs import services, tasks
from customs.interface import DeclarationEvent
from customs.models import Declaration, TariffLine
from customs.services import declarations
from payments import selectors as payments_selectors
from payments import services as payments_services
from payments.interface import Owner
from tests.conftest import wait_for

from .conftest import d
from .factories import PDF, declaration

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def importer(tariff):
    TariffLine.objects.create(hs_code="851713", country="KZ", description="Smartphones (test rate)", duty_percent=Decimal("5"),
                              effective_from=d("2020-01-01"), source="test")
    company = Company.objects.create(name="Shenzhen Phones", country=Country.objects.get(iso2="CN"), tax_id="91440300MA5ABCDE1X")
    payments_services.top_up(owner=Owner.company(company.pk), amount=Money.of("1000000", "KZT"), provider="test",
                             provider_event_id="seed", actor=SYSTEM_ACTOR)
    return company


def available(company) -> Money:
    balances = {b.currency: b.available for b in payments_selectors.balances(owner=Owner.company(company.pk))}
    return balances["KZT"]


@pytest.fixture
def finished_tasks():
    """Task id -> return value of each task the worker has finished since the test began."""
    from celery.signals import task_postrun

    finished = {}

    def record(task_id=None, retval=None, **kwargs):
        finished[task_id] = retval

    task_postrun.connect(record, weak=False)
    yield finished
    task_postrun.disconnect(record)


def test_green_declaration_is_registered_assessed_paid_and_released_by_the_worker(celery_worker, importer,
                                                                                 finished_tasks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    info = declaration(reference="CONS-GREEN", payer=Owner.company(importer.pk))
    services.document_upload(declaration_id=info.id, kind="invoice", file=SimpleUploadedFile("invoice.pdf", PDF), actor=SYSTEM_ACTOR)
    services.declaration_submit(declaration_id=info.id, actor=SYSTEM_ACTOR)
    decl = wait_for(lambda: Declaration.objects.filter(pk=info.id, status="released").first())
    # CV 1,000,000; duty 5% = 50,000; VAT 16% × 1,050,000 = 168,000 → 218,000 KZT from the importer's wallet.
    assert decl.channel == "green" and decl.total_minor == 21_800_000
    assert available(importer) == Money.of("782000", "KZT")
    assert [e.to_state for e in history(decl)] == ["submitted", "registered", "green", "assessed", "paid", "released"]
    assert decl.payment_reference.startswith("txn:")

    # A duplicated or retried task changes nothing more: each one runs to its end on the worker
    # and finds nothing left to do (an empty queue would not say the last one had finished).
    sent = [task.delay(info.id).id for task in (tasks.gateway_submit, tasks.gateway_poll, tasks.declaration_pay)]
    assert tasks.declaration_pay.apply(args=[info.id]).get() is False
    wait_for(lambda: set(sent) <= set(finished_tasks))
    assert [finished_tasks[task_id] for task_id in sent] == [False, False, False]
    assert len(history(decl)) == 6
    assert available(importer) == Money.of("782000", "KZT")


def test_red_declaration_waits_for_the_broker(celery_worker, importer, make_user):
    info = declaration(reference="CONS-RED", recorded="150.000", payer=Owner.company(importer.pk))  # 50% over the declared weight
    services.declaration_submit(declaration_id=info.id, actor=SYSTEM_ACTOR)
    decl = wait_for(lambda: Declaration.objects.filter(pk=info.id, status="red").first())
    assert "weight" in history(decl).last().reason
    broker = make_user("broker", "broker")
    services.declaration_act(declaration_id=info.id, action="mark_inspected", actor=broker, reason="Weighed again: 150 kg")
    decl = wait_for(lambda: Declaration.objects.filter(pk=info.id, status="released").first())
    assert available(importer) == Money.of("782000", "KZT")


def test_callback_task_is_sent_on_every_status_change(importer, monkeypatch, django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr(declarations.current_app, "send_task", lambda name, args=None, *rest, **options: sent.append((name, *(args or ()))))
    info = declaration(reference="CONS-CB", callback_task="warehouses.declaration_changed")
    with django_capture_on_commit_callbacks(execute=True):
        services.declaration_submit(declaration_id=info.id, actor=SYSTEM_ACTOR)
    assert ("warehouses.declaration_changed", info.id, "CONS-CB", "submitted") in sent
    # The wire shape is customs.interface.DeclarationEvent's: the receiver rebuilds the event from it.
    [args] = [call[1:] for call in sent if call[0] == "warehouses.declaration_changed"]
    assert DeclarationEvent.from_task(*args) == DeclarationEvent(declaration_id=info.id, reference="CONS-CB",
                                                                 status="submitted")
    assert ("customs.gateway_submit", info.id) in sent
