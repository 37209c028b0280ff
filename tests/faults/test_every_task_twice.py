"""Every task kind delivered twice (acks_late: a message may come again after its task ran). For each
task the project registers, a case prepares real data, runs the task once (it does its work), runs
it again with the same arguments, and checks that the second run changed nothing: the row counts of
every table of the project's apps, every status, balance and stock level.

The table is an access matrix of tasks: a task registered without a case (or an exemption with its
reason) fails :func:`test_every_registered_task_has_a_case`.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from core.access import SYSTEM_ACTOR
from customs import selectors as customs_selectors
from orders import services as orders
from orders.models import Order, Return
from tests.orders.conftest import (  # noqa: F401 - fixtures
    CN_ADDRESS,
    KZ_ADDRESS,
    buyer_cn,
    buyer_kz,
    cn_seller,
    honey,
    kz_seller,
    released_phone,
)
from warehouses import services as wh
from warehouses.models import Fulfilment

from .conftest import app_broker, assert_all_invariants, assert_no_transition_twice

pytestmark = [pytest.mark.faults, pytest.mark.django_db]

# The apps whose tables the second run must leave alone.
APPS = {"core", "payments", "customs", "warehouses", "marketplace", "orders", "testapp", "auth"}
# Columns whose value is the state of a row (besides the row counts).
STATE_COLUMNS = ("status", "customs_status", "balance_minor", "on_hand", "reserved", "done", "rows_done",
                 "chunks_done", "products_created", "tracking_numbers", "closed_at", "expires_at", "cover_id", "thumbnails")

_seq = itertools.count(1)

EXEMPT = {
    "core.ping": "the worker's health probe: reads and writes nothing",
}
# Tasks whose copy may take the *next* step (never one step twice), with the reason: for them the
# second run is checked for steps applied twice and the invariants, not for no change at all.
NEXT_STEP_ON_COPY = {
    "warehouses.simulate_fulfilment": "the demo's fulfilment simulator (off in tests and production) moves a "
    "fulfilment one step on from its *current* status, so as to follow an operator who acted by hand; a copy of "
    "the message takes the following step early (pack after pick), never the same one twice",
}
# Tasks whose work is to send other tasks after commit (run here, inline, when the case commits).
SENDS_AFTER_COMMIT = {"warehouses.resume_fulfilments"}


def snapshot() -> dict:
    from django.apps import apps

    out = {}
    for model in apps.get_models():
        if model._meta.app_label not in APPS or model._meta.proxy:
            continue
        qs = model._base_manager.all()
        label = model._meta.label
        out[label] = qs.count()
        columns = [f.attname for f in model._meta.concrete_fields if f.attname in STATE_COLUMNS]
        if columns:
            out[f"{label}:state"] = sorted(map(repr, qs.values_list("pk", *columns)))
    return out


def diff(before: dict, after: dict) -> dict:
    return {k: (before.get(k), after.get(k)) for k in set(before) | set(after) if before.get(k) != after.get(k)}


# --- the data each case starts from ---------------------------------------------------------------


class Ctx:
    def __init__(self, request):
        self.request = request
        self.settings = request.getfixturevalue("settings")

    def fixture(self, name):
        return self.request.getfixturevalue(name)


def paid_honey(ctx: Ctx) -> Order:
    buyer, product = ctx.fixture("buyer_cn"), ctx.fixture("honey")
    order = orders.order_place(buyer=buyer, storefront="kz", lines=[{"product": product.pk, "quantity": 1}],
                               ship_to=dict(CN_ADDRESS))
    orders.order_pay(order=order, actor=buyer)
    return Order.objects.get(pk=order.pk)


def declared(ctx: Ctx) -> tuple[Order, int]:
    """A paid honey order sold from bond, its parcel declaration submitted (the gateway not asked yet)."""
    order = paid_honey(ctx)
    assert orders.order_declare(order_id=order.pk)
    declaration = customs_selectors.declaration_for(order.reference)
    assert declaration.status == "submitted", declaration.status
    return Order.objects.get(pk=order.pk), declaration.id


def registered(ctx: Ctx) -> tuple[Order, int]:
    from customs import services as customs

    order, declaration_id = declared(ctx)
    assert customs.gateway_register(declaration_id=declaration_id)
    return order, declaration_id


def assessed(ctx: Ctx) -> tuple[Order, int]:
    from customs import services as customs

    order, declaration_id = registered(ctx)
    customs.gateway_poll(declaration_id=declaration_id)
    status = customs_selectors.declaration_for(order.reference).status
    assert status == "assessed", status
    return order, declaration_id


def paid_declaration(ctx: Ctx) -> tuple[Order, int]:
    from customs import services as customs

    order, declaration_id = assessed(ctx)
    customs.declaration_pay(declaration_id=declaration_id)
    assert customs_selectors.declaration_for(order.reference).status == "paid"
    return order, declaration_id


def released_declaration(ctx: Ctx) -> tuple[Order, int]:
    from customs import services as customs

    order, declaration_id = paid_declaration(ctx)
    customs.gateway_poll(declaration_id=declaration_id)
    assert customs_selectors.declaration_for(order.reference).status == "released"
    return order, declaration_id


def cleared(ctx: Ctx) -> Order:
    order, _declaration = released_declaration(ctx)
    orders.order_customs_changed(reference=order.reference, status="released")
    order.refresh_from_db()
    assert order.status == "cleared", order.status
    return order


def shipped(ctx: Ctx) -> Order:
    order = cleared(ctx)
    orders.order_fulfilment_changed(reference=order.reference, warehouse="LHW", status="shipped", tracking_numbers=["CN1"])
    order.refresh_from_db()
    assert order.status == "shipped"
    return order


def domestic_paid(ctx: Ctx) -> Order:
    buyer, phone = ctx.fixture("buyer_kz"), ctx.fixture("released_phone")
    order = orders.order_place(buyer=buyer, storefront="cn-kz", lines=[{"product": phone.pk, "quantity": 1}],
                               ship_to=dict(KZ_ADDRESS))
    orders.order_pay(order=order, actor=buyer)
    return Order.objects.get(pk=order.pk)


def delivered_domestic(ctx: Ctx) -> Order:
    order = domestic_paid(ctx)
    fulfilment = Fulfilment.objects.get(reference=order.reference)
    wh.fulfilment_pick(fulfilment=fulfilment, actor=SYSTEM_ACTOR)
    wh.parcel_pack(fulfilment=fulfilment, parcels=[{"weight_g": 800, "length_mm": 200, "width_mm": 120, "height_mm": 80}],
                   actor=SYSTEM_ACTOR)
    wh.fulfilment_ship(fulfilment=fulfilment, actor=SYSTEM_ACTOR)
    orders.order_fulfilment_changed(reference=order.reference, warehouse=order.source_warehouse, status="shipped")
    orders.order_advance(order=order, to="in_transit", actor=SYSTEM_ACTOR)
    orders.order_deliver(order=order, actor=SYSTEM_ACTOR)
    return Order.objects.get(pk=order.pk)


def requested_return(ctx: Ctx) -> Return:
    from orders import returns

    order = delivered_domestic(ctx)
    return returns.return_request(order=order, lines=[{"line": order.lines.get().pk, "quantity": 1}], reason="defective",
                                  actor=ctx.fixture("buyer_kz"))


def received_return(ctx: Ctx) -> Return:
    from orders import returns
    from warehouses.models import Warehouse

    ret = requested_return(ctx)
    seller = ctx.fixture("cn_seller")
    operator = ctx.fixture("make_user")(f"operator_{next(_seq)}", "operator")
    Warehouse.objects.get(code="ALA").operators.add(operator)
    ret = returns.return_approve(ret=ret, actor=seller)
    ret = returns.return_ship(ret=ret, tracking_number="KZRET1", actor=ctx.fixture("buyer_kz"))
    line = ret.lines.get()
    ret = returns.return_receive(ret=ret, lines=[{"line": line.line_id, "quantity": 1, "condition": "restock"}],
                                 actor=operator)
    assert Return.objects.get(pk=ret.pk).status == "received"
    return ret


def payout(ctx: Ctx):
    from core.money import Money
    from payments import services as pay
    from payments.interface import Owner

    seller = ctx.fixture("kz_seller")
    owner = Owner.company(seller.company.pk)
    pay.top_up(owner=owner, amount=Money.of("500.00", "KZT"), provider="simulator",
               provider_event_id=f"twice-{next(_seq)}", actor=SYSTEM_ACTOR)
    return pay.payout_request(owner=owner, amount=Money.of("120.00", "KZT"), actor=SYSTEM_ACTOR)


def consignment(ctx: Ctx, status: str = "submitted"):
    from core.money import Money
    from core.states import transition
    from tests.warehouses.conftest import SkuFactory

    seller = ctx.fixture("cn_seller")
    sku = SkuFactory(company=seller.company, hs_code="392690", weight_g=50)
    c = wh.consignment_create(company_id=seller.company.pk, warehouse="TAS", origin="URC",
                              border_crossing="BC-IRKESHTAM", lines=[(sku.pk, 10, Money.of("100.00", "USD"))], actor=seller)
    wh.consignment_submit(consignment=c, actor=seller)
    for step in ("in_transit", "at_border")[: ["submitted", "in_transit", "at_border"].index(status)]:
        transition(c, step, actor=SYSTEM_ACTOR)
    c.refresh_from_db()
    return c


def at_customs_consignment(ctx: Ctx):
    """A consignment that reached customs and was declared there, the declaration registered and
    channelled by the gateway (its callback to warehouses not yet delivered)."""
    from customs import services as customs

    c = consignment(ctx, "at_border")
    wh.consignment_advance(consignment=c, expected="at_border", actor=SYSTEM_ACTOR)
    c.refresh_from_db()
    declaration = customs_selectors.declaration_for(f"consignment:{c.pk}")
    customs.gateway_register(declaration_id=declaration.id)
    customs.gateway_poll(declaration_id=declaration.id)
    return c, declaration.id


def simulated_fulfilment(ctx: Ctx) -> Fulfilment:
    ctx.settings.WAREHOUSES_FULFILMENT_SIMULATOR = True
    return Fulfilment.objects.get(reference=domestic_paid(ctx).reference)


def catalogue_import(ctx: Ctx, started: bool):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from marketplace import services as catalogue

    ctx.settings.MEDIA_ROOT = str(ctx.fixture("tmp_path") / "media")
    seller = ctx.fixture("kz_seller")
    header = "sku,category,hs_code,origin_country,net_weight_g,gross_weight_g,title_en,price_kz"
    rows = [f"TW-{n},honey,040900,KZ,250,310,Honey {n},39.90" for n in range(5)] + ["TW-bad,honey,12,KZ,250,310,Bad,1"]
    imp = catalogue.catalogue_import_create(company=seller.company, actor=seller, run=False,
                                            file=SimpleUploadedFile("c.csv", "\r\n".join([header, *rows]).encode()))
    if started:
        assert catalogue.catalogue_import_start(import_id=imp.pk, send_chunks=False) == [0]
    return imp


def product_image(ctx: Ctx):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from marketplace import services as catalogue
    from marketplace.models import ProductImage

    ctx.settings.MEDIA_ROOT = str(ctx.fixture("tmp_path") / "media")
    out = io.BytesIO()
    Image.new("RGB", (1000, 800), (200, 120, 40)).save(out, "JPEG")
    honey_product = ctx.fixture("honey")
    image = catalogue.product_image_add(product=honey_product, actor=SYSTEM_ACTOR,
                                        upload=SimpleUploadedFile("p.jpg", out.getvalue(), content_type="image/jpeg"))
    ProductImage.objects.filter(pk=image.pk).update(thumbnails={})  # as uploaded, before the worker's task
    return image


def shipment(ctx: Ctx, status: str):
    from tests.testapp.models import Shipment

    owner = ctx.fixture("make_user")(f"ship_{next(_seq)}", "buyer")
    return Shipment.objects.create(owner=owner, status=status)


def expired_reservation(ctx: Ctx):
    from warehouses.models import Reservation

    buyer, product = ctx.fixture("buyer_cn"), ctx.fixture("honey")
    order = orders.order_place(buyer=buyer, storefront="kz", lines=[{"product": product.pk, "quantity": 2}],
                               ship_to=dict(CN_ADDRESS))
    Reservation.objects.filter(reference=order.reference).update(expires_at=timezone.now() - timedelta(seconds=1))


def expired_order(ctx: Ctx):
    buyer, product = ctx.fixture("buyer_cn"), ctx.fixture("honey")
    order = orders.order_place(buyer=buyer, storefront="kz", lines=[{"product": product.pk, "quantity": 2}],
                               ship_to=dict(CN_ADDRESS))
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(seconds=1))


def stale_idempotency_key(ctx: Ctx):
    from core.models import IdempotencyKey

    user = ctx.fixture("make_user")(f"idem_{next(_seq)}", "buyer")
    IdempotencyKey.objects.create(user=user, key="k", method="POST", path="/api/v1/x/", body_hash="0" * 64,
                                  status="done", created_at=timezone.now() - timedelta(days=2),
                                  expires_at=timezone.now() - timedelta(hours=1))


def rejected_order(ctx: Ctx) -> Order:
    order, _declaration = registered(ctx)
    order = orders.order_customs_changed(reference=order.reference, status="rejected")
    assert order.status == "customs_rejected", order.status
    return order


# The sweeps: what they look for is made old enough (their thresholds stay as configured), so
# that the first run moves it one step and a copy delivered right after finds nothing stalled.
AGO = timedelta(hours=1)


def stalled_declaration(ctx: Ctx):
    from customs.models import Declaration

    _order, declaration_id = declared(ctx)
    Declaration.objects.filter(pk=declaration_id).update(updated_at=timezone.now() - AGO)


def stuck_parcel(ctx: Ctx):
    from core.models import TransitionEvent

    order = shipped(ctx)
    TransitionEvent.objects.filter(machine="order", object_id=order.pk).update(at=timezone.now() - AGO)


def undeclared_parcel(ctx: Ctx):
    """A paid order sold from bond whose filing task was lost: paid long ago, still undeclared."""
    order = paid_honey(ctx)
    Order.objects.filter(pk=order.pk).update(paid_at=timezone.now() - AGO)


def unreturned_refusal(ctx: Ctx):
    """An order customs refused long ago whose return task was lost: still ``customs_rejected``."""
    from core.models import TransitionEvent

    order = rejected_order(ctx)
    TransitionEvent.objects.filter(machine="order", object_id=order.pk, to_state="customs_rejected").update(
        at=timezone.now() - AGO)


def lost_customs_decision(ctx: Ctx):
    """Customs released the parcel long ago, and the callback that tells the order was lost."""
    from core.models import TransitionEvent

    order, _declaration = released_declaration(ctx)
    assert Order.objects.get(pk=order.pk).status == "at_customs"
    TransitionEvent.objects.filter(machine="order", object_id=order.pk, to_state="at_customs").update(
        at=timezone.now() - AGO)


def lost_warehouse_step(ctx: Ctx):
    """The warehouse picked a cleared order long ago, and the callback that tells the order was lost."""
    from core.models import TransitionEvent

    order = cleared(ctx)
    wh.fulfilment_pick(fulfilment=Fulfilment.objects.get(reference=order.reference), actor=SYSTEM_ACTOR)
    assert Order.objects.get(pk=order.pk).status == "cleared"
    TransitionEvent.objects.filter(machine="order", object_id=order.pk, to_state="cleared").update(
        at=timezone.now() - AGO)


def stalled_fulfilment(ctx: Ctx):
    fulfilment = simulated_fulfilment(ctx)
    Fulfilment.objects.filter(pk=fulfilment.pk).update(created_at=timezone.now() - AGO, moved_at=None)


def stuck_payout(ctx: Ctx):
    from payments.models import Payout

    p = payout(ctx)
    Payout.objects.filter(pk=p.pk).update(updated_at=timezone.now() - timedelta(minutes=6))


def stalled_import(ctx: Ctx):
    from marketplace.models import CatalogueImport

    imp = catalogue_import(ctx, started=False)  # queued, its start message lost
    CatalogueImport.objects.filter(pk=imp.pk).update(created_at=timezone.now() - AGO)


def unanswered_return(ctx: Ctx):
    ret = requested_return(ctx)
    Return.objects.filter(pk=ret.pk).update(created_at=timezone.now() - timedelta(days=3, minutes=1))


def lost_refund(ctx: Ctx):
    received_return(ctx)


# Task name -> prepare(ctx) returning the task's (args, kwargs): the same ones for both runs.
CASES = {
    "core.purge_idempotency_keys": lambda ctx: (stale_idempotency_key(ctx), ((), {}))[1],
    "customs.gateway_submit": lambda ctx: ((declared(ctx)[1],), {}),
    "customs.gateway_submit_batch": lambda ctx: (([declared(ctx)[1]],), {}),
    "customs.gateway_poll": lambda ctx: ((registered(ctx)[1],), {}),
    "customs.gateway_poll_batch": lambda ctx: (([registered(ctx)[1]],), {}),
    "customs.declaration_pay": lambda ctx: ((assessed(ctx)[1],), {}),
    "customs.declarations_pay": lambda ctx: (([assessed(ctx)[1]],), {}),
    "customs.resume_stalled": lambda ctx: (stalled_declaration(ctx), ((), {}))[1],
    "marketplace.make_thumbnails": lambda ctx: ((product_image(ctx).pk,), {}),
    "marketplace.import_start": lambda ctx: ((catalogue_import(ctx, started=False).pk,), {}),
    "marketplace.import_chunk": lambda ctx: ((catalogue_import(ctx, started=True).pk, 0), {}),
    "marketplace.imports_resume": lambda ctx: (stalled_import(ctx), ((), {}))[1],
    "marketplace.expire_orders": lambda ctx: (expired_order(ctx), ((), {}))[1],
    "marketplace.order_shipped": lambda ctx: ((cleared(ctx).reference, "LHW", ["CN7"]), {}),
    "marketplace.parcels_step": lambda ctx: (([shipped(ctx).pk], "shipped"), {}),
    "marketplace.parcels_sweep": lambda ctx: (stuck_parcel(ctx), ((), {}))[1],
    "orders.fulfilment_changed": lambda ctx: ((cleared(ctx).reference, "LHW", ["CN8"]), {"status": "packed"}),
    "orders.fulfilments_changed": lambda ctx: (([[[cleared(ctx).reference, "LHW", ["CN9"]], {"status": "picking"}]],), {}),
    "orders.declare_parcel": lambda ctx: ((paid_honey(ctx).pk,), {}),
    "orders.declare_parcels": lambda ctx: (([paid_honey(ctx).pk],), {}),
    "orders.declare_paid_parcels": lambda ctx: (([paid_honey(ctx).pk],), {}),
    "orders.declare_sweep": lambda ctx: (undeclared_parcel(ctx), ((), {}))[1],
    "orders.declaration_changed": lambda ctx: (lambda od: ((od[1], od[0].reference, "released"), {}))(
        released_declaration(ctx)),
    "orders.declarations_changed": lambda ctx: (lambda od: (([[[od[1], od[0].reference, "released"], {}]],), {}))(
        released_declaration(ctx)),
    "orders.return_rejected": lambda ctx: ((rejected_order(ctx).pk,), {}),
    "orders.return_rejected_batch": lambda ctx: (([rejected_order(ctx).pk],), {}),
    "orders.rejected_sweep": lambda ctx: (unreturned_refusal(ctx), ((), {}))[1],
    "orders.customs_sweep": lambda ctx: (lost_customs_decision(ctx), ((), {}))[1],
    "orders.warehouse_sweep": lambda ctx: (lost_warehouse_step(ctx), ((), {}))[1],
    "orders.refund_return": lambda ctx: ((received_return(ctx).pk,), {}),
    "orders.returns_auto_approve": lambda ctx: (unanswered_return(ctx), ((), {}))[1],
    "orders.returns_sweep": lambda ctx: (lost_refund(ctx), ((), {}))[1],
    "payments.process_payout": lambda ctx: ((payout(ctx).pk,), {}),
    "payments.sweep_payouts": lambda ctx: (stuck_payout(ctx), ((), {}))[1],
    "warehouses.expire_reservations": lambda ctx: (expired_reservation(ctx), ((), {}))[1],
    "warehouses.advance_consignment": lambda ctx: ((consignment(ctx).pk, "submitted"), {}),
    "warehouses.declaration_changed": lambda ctx: (lambda cd: ((cd[1], f"consignment:{cd[0].pk}", "green"), {}))(
        at_customs_consignment(ctx)),
    "warehouses.simulate_fulfilment": lambda ctx: ((simulated_fulfilment(ctx).pk,), {}),
    "warehouses.simulate_fulfilments": lambda ctx: (([simulated_fulfilment(ctx).pk], "requested"), {}),
    "warehouses.resume_fulfilments": lambda ctx: (stalled_fulfilment(ctx), ((), {}))[1],
    "testapp.accept_shipment": lambda ctx: ((shipment(ctx, "submitted").pk,), {}),
    "testapp.accept_and_forward": lambda ctx: ((shipment(ctx, "submitted").pk, "default"), {}),
    "testapp.finish_shipment": lambda ctx: ((shipment(ctx, "accepted").pk,), {}),
}
# Tasks whose first run may find nothing to do on fresh reference data, with the reason.
MAY_FIND_NOTHING = {
    "payments.refresh_fx_rates": "the reference rates of today are loaded already by the reference data",
}
CASES["payments.refresh_fx_rates"] = lambda ctx: ((), {})


def registered_tasks() -> set[str]:
    from config.celery import app

    app.loader.import_default_modules()
    # Celery's own, and the callbacks a test module defines for itself (tests.<app>.<name>), are not ours.
    return {name for name in app.tasks if not name.startswith(("celery.", "tests."))}


def test_every_registered_task_has_a_case():
    names = registered_tasks()
    assert names - set(CASES) - set(EXEMPT) == set(), "tasks without a case: add one to CASES (or EXEMPT, with a reason)"
    assert set(CASES) | set(EXEMPT) <= names, "cases of tasks that are not registered any more"
    assert not set(CASES) & set(EXEMPT)
    assert set(NEXT_STEP_ON_COPY) | set(MAY_FIND_NOTHING) | SENDS_AFTER_COMMIT <= set(CASES)


@pytest.fixture
def eager():
    """``.delay`` inside a task (the sweeps) runs there and then; ``enqueue``'s after-commit sends
    never fire inside the test's transaction, so each case runs its own task only."""
    # What is sent by name all the same (send_task: the warehouses' callbacks) goes to an in-memory
    # broker, not to the shared Redis.
    with app_broker("memory://") as app:
        app.conf.update(CELERY_TASK_ALWAYS_EAGER=True, task_always_eager=True)
        try:
            yield
        finally:
            app.conf.update(CELERY_TASK_ALWAYS_EAGER=False, task_always_eager=False)


@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
@pytest.mark.parametrize("name", sorted(CASES))
def test_a_task_delivered_twice_changes_nothing_the_second_time(name, request, eager, reference, settings,
                                                                django_capture_on_commit_callbacks):
    from config.celery import app

    registered_tasks()
    task = app.tasks[name]
    args, kwargs = CASES[name](Ctx(request))
    before = snapshot()

    def run():
        if name in SENDS_AFTER_COMMIT:
            with django_capture_on_commit_callbacks(execute=True):
                result = task.apply(args=args, kwargs=kwargs)
        else:
            result = task.apply(args=args, kwargs=kwargs)
        assert result.successful(), result.traceback

    run()
    after_first = snapshot()
    if name not in MAY_FIND_NOTHING:
        assert diff(before, after_first), f"{name}: the first run did nothing, so the case proves nothing"

    run()
    if name in NEXT_STEP_ON_COPY:
        assert_no_transition_twice()
    else:
        assert diff(after_first, snapshot()) == {}, f"{name}: the second run changed something"
    assert_all_invariants()
