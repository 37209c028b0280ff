"""Declarations: creation, the state machine, broker actions, documents and the gateway simulator."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.access import SYSTEM_ACTOR
from core.errors import DomainError
from core.money import Money
from core.states import history
from customs import selectors, services
from customs.gateways import GatewayDeclaration, GatewayLine
from customs.gateways.simulator import SimulatorGateway
from customs.models import Declaration, TariffLine

from .conftest import d
from .factories import PDF, declaration

pytestmark = pytest.mark.django_db


@pytest.fixture
def kz_duty(tariff):
    TariffLine.objects.create(hs_code="851713", country="KZ", description="Smartphones (test rate)", duty_percent=Decimal("5"),
                              effective_from=d("2020-01-01"), source="test")


def test_release_from_bond_declaration_gets_its_duties_from_the_rules(kz_duty):
    info = declaration(date=d("2026-02-01"))
    # CV 1,000,000; duty 5% = 50,000; VAT 16% × 1,050,000 = 168,000.
    assert info.status == "draft" and info.regime == "release_from_bond"
    assert info.duties == Money.of("218000", "KZT")
    assert selectors.declaration_for("CONS-1") == info


def test_import_into_bond_pays_nothing_on_entry(tariff):
    info = declaration(kind="import", hs="010190")  # any valid code: nothing is charged on entry
    assert info.regime == "customs_warehouse" and info.duties == Money.zero("KZT")


def test_declared_once_per_reference(kz_duty):
    first = declaration()
    assert declaration().id == first.id
    with pytest.raises(DomainError) as exc:
        declaration(kind="import")
    assert exc.value.code == "conflict"
    assert Declaration.objects.count() == 1


@pytest.mark.parametrize(("kwargs", "code", "field"), [
    ({"country": "XX"}, "unknown_country", "importer_country"),
    ({"hs": "85171"}, "invalid_hs_code", "lines.0.hs_code"),
    ({"hs": "771000"}, "invalid_hs_code", "lines.0.hs_code"),
    ({"value": "-1"}, "invalid_amount", "lines.0.value"),
    ({"declared": "0"}, "validation_error", "lines.0.weight_kg"),
    ({"kind": "smuggle"}, "validation_error", "kind"),
])
def test_bad_declarations_are_refused_and_write_nothing(kz_duty, kwargs, code, field):
    with pytest.raises(DomainError) as exc:
        declaration(**kwargs)
    assert exc.value.code == code and field in exc.value.fields
    assert not Declaration.objects.exists()


def test_broker_journey_through_yellow_with_events(kz_duty, make_user):
    broker = make_user("broker", "broker")
    seller = make_user("seller", "seller")
    info = declaration(actor=seller)
    services.declaration_submit(declaration_id=info.id, actor=seller)
    services.gateway_register(declaration_id=info.id)
    services.gateway_poll(declaration_id=info.id)  # no invoice attached → documents requested
    decl = Declaration.objects.get(pk=info.id)
    assert (decl.status, decl.channel) == ("yellow", "yellow")
    with pytest.raises(DomainError) as exc:
        services.declaration_act(declaration_id=info.id, action="release", actor=broker)
    assert exc.value.status == 409
    with pytest.raises(DomainError) as exc:
        services.declaration_act(declaration_id=info.id, action="assess", actor=seller)
    assert exc.value.status == 403
    services.declaration_act(declaration_id=info.id, action="assess", actor=broker)
    services.declaration_act(declaration_id=info.id, action="mark_paid", actor=broker)
    services.gateway_poll(declaration_id=info.id)
    decl.refresh_from_db()
    assert decl.status == "released"
    steps = [(e.from_state, e.to_state, e.actor_label) for e in history(decl)]
    assert steps == [("draft", "submitted", "seller"), ("submitted", "registered", "system"), ("registered", "yellow", "system"),
                     ("yellow", "assessed", "broker"), ("assessed", "paid", "broker"), ("paid", "released", "system")]


def test_reject_needs_a_reason(kz_duty, make_user):
    broker = make_user("broker", "broker")
    info = declaration()
    services.declaration_submit(declaration_id=info.id, actor=SYSTEM_ACTOR)
    services.gateway_register(declaration_id=info.id)
    with pytest.raises(DomainError) as exc:
        services.declaration_act(declaration_id=info.id, action="reject", actor=broker, reason="  ")
    assert "reason" in exc.value.fields
    services.declaration_act(declaration_id=info.id, action="reject", actor=broker, reason="Invoice does not match")
    assert selectors.declaration_for("CONS-1").rejection_reason == "Invoice does not match"


def test_documents_are_checked_by_content_and_size(kz_duty, make_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.CUSTOMS_DOCUMENT_MAX_BYTES = 1024
    broker = make_user("broker", "broker")
    info = declaration()
    doc = services.document_upload(declaration_id=info.id, kind="invoice", file=SimpleUploadedFile("inv.pdf", PDF), actor=broker)
    assert doc.content_type == "application/pdf" and doc.size == len(PDF)
    for upload, field_message in [
        (SimpleUploadedFile("inv.pdf", b"MZ\x90\x00 not a pdf"), "PDF, PNG or JPEG only."),
        (SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * 2000 + b"%%EOF"), "At most 0 MB."),
        (SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\n" + b"garbage"), "Broken or truncated image."),
        (SimpleUploadedFile("cut.pdf", PDF[:30]), "The PDF is incomplete."),
    ]:
        with pytest.raises(DomainError) as exc:
            services.document_upload(declaration_id=info.id, kind="invoice", file=upload, actor=broker)
        assert exc.value.code == "invalid_document" and exc.value.fields["file"] == [field_message]
    assert Declaration.objects.get(pk=info.id).documents.count() == 1


# --- the simulator's risk rules --------------------------------------------------------------------


def snap(lines=(("851713", "1000"),), declared="10", recorded=None, docs=("invoice",), kind="release_from_bond", ref="R-1"):
    return GatewayDeclaration(
        id=1, reference=ref, kind=kind, importer_country="KZ", status="registered", registration_number="SIM-KZ-1",
        customs_value=Money.of(sum(Decimal(v) for _, v in lines), "USD"), declared_weight_kg=Decimal(declared),
        recorded_weight_kg=None if recorded is None else Decimal(recorded),
        lines=tuple(GatewayLine(hs, 1, Decimal("1"), Money.of(v, "USD")) for hs, v in lines), document_kinds=frozenset(docs))


@pytest.mark.parametrize(("declaration_snapshot", "status", "rule"), [
    (snap(), "green", None),
    (snap(docs=()), "yellow", "missing_invoice"),
    (snap(docs=(), kind="parcel"), "green", None),
    (snap(lines=(("851713", "20000"),)), "yellow", "high_value"),
    (snap(lines=(("851713", "60000"),)), "red", "high_value"),
    (snap(lines=(("330499", "100"),)), "yellow", "certified_chapter"),
    (snap(lines=(("711319", "100"),)), "red", "sensitive_chapter"),
    (snap(recorded="10.4"), "green", None),  # 4% gap: within tolerance
    (snap(recorded="10.8"), "yellow", "weight_mismatch"),  # 8%
    (snap(recorded="13"), "red", "weight_mismatch"),  # 30%
    (snap(lines=(("930100", "100"),)), "rejected", "prohibited_chapter"),
])
def test_simulator_risk_rules(tariff, declaration_snapshot, status, rule):
    result = SimulatorGateway().poll(declaration_snapshot)
    assert result.status == status
    assert (rule in result.rules) if rule else result.rules == ()


def test_simulator_thresholds_are_tunable(tariff, settings):
    settings.CUSTOMS_SIMULATOR = {**settings.CUSTOMS_SIMULATOR, "yellow_value_usd": 500, "red_hs_chapters": ["85"]}
    assert SimulatorGateway().poll(snap()).status == "red"


def test_simulator_random_audit_is_deterministic(tariff, settings):
    settings.CUSTOMS_SIMULATOR = {**settings.CUSTOMS_SIMULATOR, "reject_every": 3}
    outcomes = {ref: SimulatorGateway().poll(snap(ref=ref)).status for ref in (f"R-{n}" for n in range(12))}
    assert "rejected" in outcomes.values() and "green" in outcomes.values()
    assert outcomes == {ref: SimulatorGateway().poll(snap(ref=ref)).status for ref in outcomes}


def test_demo_seed_fills_the_queue_in_several_states_and_is_idempotent(tariff, make_user, settings, tmp_path):
    import io

    from customs import demo

    settings.MEDIA_ROOT = tmp_path
    broker = make_user("broker", "broker")
    demo.seed(io.StringIO(), users={"broker": broker})
    demo.seed(io.StringIO(), users={"broker": broker})
    states = dict(Declaration.objects.values_list("reference", "status"))
    assert states == {"DEMO-TAS-REL-001": "yellow", "DEMO-ALA-REL-002": "red", "DEMO-ALA-IMP-007": "released",
                      "DEMO-TAS-REL-004": "assessed", "DEMO-PCL-KZ-005": "draft", "DEMO-ALA-REL-006": "rejected"}
    assert Declaration.objects.get(reference="DEMO-ALA-IMP-007").documents.count() == 2
