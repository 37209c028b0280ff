"""The operator console and the sellers' consignment pages: thin views over selectors and services."""

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.access import OPERATOR, SELLER, STAFF, get_visible, roles_of, visible
from core.access import company_ids as _company_ids
from core.errors import DomainError
from core.selectors import place_names

from . import selectors, services
from .access import may_operate, operated_codes
from .forms import (
    AdjustForm,
    ConsignmentForm,
    ConsignmentLineFormSet,
    MovementFilterForm,
    PackForm,
    StockFilterForm,
    TransferForm,
    apply_errors,
)
from .models import (
    BondStatus,
    Consignment,
    ConsignmentLine,
    Discrepancy,
    Fulfilment,
    Sku,
    StockLevel,
    Transfer,
    Warehouse,
)
from .routes import MODES

PAGE_SIZES = (25, 50, 100, 200)


def _operated(request, code) -> Warehouse:
    """A warehouse the user operates (or any, for staff); another's is 404."""
    warehouse = Warehouse.objects.filter(code=str(code).upper(), is_active=True).select_related("country").first()
    if warehouse is None or not may_operate(request.user, warehouse.code):
        raise Http404
    return warehouse


def _console(request, warehouse, tab, **context):
    context.update(warehouse=warehouse, tab=tab, operated=_operated_list(request.user))
    return context


def _operated_list(user):
    qs = Warehouse.objects.filter(is_active=True)
    if STAFF not in roles_of(user):
        qs = qs.filter(code__in=operated_codes(user))
    return list(qs.order_by("priority", "code"))


@login_required
def index(request):
    roles = roles_of(request.user)
    if OPERATOR not in roles and STAFF not in roles:
        if SELLER in roles:
            return redirect("warehouses:seller_consignments")
        raise Http404
    warehouses = _operated_list(request.user)
    if len(warehouses) == 1:
        return redirect("warehouses:stock", code=warehouses[0].code)
    cards = [(w, selectors.stock_summary(user=request.user, warehouse=w)) for w in warehouses]
    return render(request, "warehouses/index.html", {"cards": cards})


def _stock_queryset(request, warehouse, form):
    data = form.cleaned_data if form.is_valid() else {}
    sort = data.get("sort") or "sku"
    return selectors.stock_levels(
        user=request.user, warehouse=warehouse, q=data.get("q") or "", bond_status=data.get("bond_status") or "",
        low=bool(data.get("low")), sort=sort.lstrip("-"), descending=sort.startswith("-"),
    ), data


def _without_cursor(request):
    params = request.GET.copy()
    params.pop("cursor", None)
    params.pop("page", None)
    return params


@login_required
def stock(request, code):
    warehouse = _operated(request, code)
    form = StockFilterForm(request.GET or None)
    qs, data = _stock_queryset(request, warehouse, form)
    sort = data.get("sort") or "sku"
    # Keyset pages: no COUNT and no OFFSET, so page 2,000 of 100,000 rows costs what page 1 does.
    page = selectors.keyset_page(qs, selectors.SORTS[sort.lstrip("-")], descending=sort.startswith("-"),
                                 cursor=request.GET.get("cursor", ""), size=data.get("page_size") or 50)
    now = timezone.now()
    rows = [
        {"level": lv, "low": lv.available <= lv.sku.low_stock_threshold,
         "age": (now - lv.aged_since).days if lv.aged_since and lv.bond_status == BondStatus.BONDED else None}
        for lv in page.rows
    ]
    params = _without_cursor(request)
    summary, flows = selectors.stock_overview(user=request.user, warehouse=warehouse)
    return render(request, "warehouses/stock.html", _console(
        request, warehouse, "stock", form=form, page=page, rows=rows, query=params.urlencode(),
        summary=summary, flows=flows, sort=data.get("sort") or "sku", sorts=_sort_links(params, data.get("sort") or "sku"),
    ))


def _sort_links(params, current):
    links = {}
    for key in selectors.SORTS:
        p = params.copy()
        p["sort"] = f"-{key}" if current == key else key
        links[key] = p.urlencode()
    return links


class _Echo:
    def write(self, value):
        return value


@login_required
def stock_csv(request, code):
    """The filtered stock table as CSV, streamed so 100,000 rows never sit in memory."""
    warehouse = _operated(request, code)
    qs, _data = _stock_queryset(request, warehouse, StockFilterForm(request.GET or None))
    writer = csv.writer(_Echo())
    header = ["warehouse", "sku", "name", "seller", "bond_status", "on_hand", "reserved", "available", "location",
              "oldest_bonded_since", "low_stock"]

    def rows():
        yield writer.writerow(header)
        for lv in qs.iterator(chunk_size=2000):
            yield writer.writerow([
                warehouse.code, lv.sku.code, lv.sku.name, lv.sku.company.name, lv.bond_status, lv.on_hand, lv.reserved,
                lv.available, lv.location, lv.aged_since.date().isoformat() if lv.aged_since else "",
                "yes" if lv.available <= lv.sku.low_stock_threshold else "",
            ])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="stock-{warehouse.code}-{timezone.localdate().isoformat()}.csv"'
    return response


@login_required
def movements(request, code):
    warehouse = _operated(request, code)
    form = MovementFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    qs = selectors.movement_list(user=request.user, warehouse=warehouse, sku=data.get("sku") or "",
                                 kind=data.get("kind") or "", reference=data.get("reference") or "",
                                 date_from=data.get("date_from"), date_to=data.get("date_to"))
    page = selectors.keyset_page(qs, ("at", "id"), descending=True, cursor=request.GET.get("cursor", ""), size=50)
    params = _without_cursor(request)
    return render(request, "warehouses/movements.html", _console(
        request, warehouse, "movements", form=form, page=page, query=params.urlencode()))


def _level(request, warehouse, level_id):
    return get_visible(request.user, StockLevel.objects.filter(warehouse=warehouse).select_related("sku", "sku__company"),
                       pk=level_id)


@login_required
def adjust(request, code, level_id):
    warehouse = _operated(request, code)
    level = _level(request, warehouse, level_id)
    form = AdjustForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.stock_adjust(warehouse=warehouse.code, sku_id=level.sku_id, bond_status=level.bond_status,
                                  actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Stock of %(sku)s adjusted.") % {"sku": level.sku.code})
            return redirect("warehouses:stock", code=warehouse.code)
    return render(request, "warehouses/adjust.html", _console(request, warehouse, "stock", form=form, level=level))


@login_required
def transfers(request, code):
    warehouse = _operated(request, code)
    qs = visible(request.user, Transfer.objects.filter(source=warehouse) | Transfer.objects.filter(destination=warehouse))
    page = Paginator(qs.select_related("source", "destination").prefetch_related("lines__sku").order_by("-id"), 25).get_page(
        request.GET.get("page"))
    return render(request, "warehouses/transfers.html", _console(request, warehouse, "transfers", page=page))


@login_required
def transfer_new(request, code, level_id):
    warehouse = _operated(request, code)
    level = _level(request, warehouse, level_id)
    form = TransferForm(request.POST or None, source=warehouse)
    if request.method == "POST" and form.is_valid():
        try:
            transfer = services.transfer_create(
                source=warehouse.code, destination=form.cleaned_data["destination"], note=form.cleaned_data["note"],
                lines=[(level.sku_id, level.bond_status, form.cleaned_data["quantity"])], actor=request.user,
            )
        except DomainError as exc:
            apply_errors(form, exc, {"lines.0.quantity": "quantity"})
        else:
            messages.success(request, _("Transfer %(number)s is on its way.") % {"number": transfer.number})
            return redirect("warehouses:transfers", code=warehouse.code)
    return render(request, "warehouses/transfer_new.html", _console(request, warehouse, "transfers", form=form, level=level))


@login_required
@require_POST
def transfer_action(request, code, pk, verb):
    if verb not in {"receive", "cancel"}:
        raise Http404
    warehouse = _operated(request, code)
    transfer = get_visible(request.user, Transfer.objects.all(), pk=pk)
    try:
        if verb == "receive":
            services.transfer_receive(transfer=transfer, actor=request.user)
            messages.success(request, _("Transfer %(number)s received.") % {"number": transfer.number})
        else:
            services.transfer_cancel(transfer=transfer, actor=request.user)
            messages.success(request, _("Transfer %(number)s cancelled; the units are back.") % {"number": transfer.number})
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("warehouses:transfers", code=warehouse.code)


def _consignments(user):
    return visible(user, Consignment.objects.select_related("warehouse__place", "company", "origin", "border_crossing")
                   .prefetch_related(Prefetch("lines", ConsignmentLine.objects.select_related("sku")),
                                     Prefetch("discrepancies", Discrepancy.objects.select_related("sku")))).order_by("-id")


@login_required
def consignments(request, code):
    warehouse = _operated(request, code)
    status = request.GET.get("status", "")
    qs = _consignments(request.user).filter(warehouse=warehouse)
    if status in Consignment.Status.values:
        qs = qs.filter(status=status)
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    return render(request, "warehouses/consignments.html", _console(
        request, warehouse, "consignments", page=page, status=status, statuses=Consignment.Status.choices))


@login_required
def seller_consignments(request):
    if SELLER not in roles_of(request.user) and STAFF not in roles_of(request.user):
        raise Http404
    page = Paginator(_consignments(request.user), 25).get_page(request.GET.get("page"))
    return render(request, "warehouses/seller_consignments.html", {"page": page})


def _seller_companies(user):
    from core.access import company_ids
    from core.models import Company

    return list(Company.objects.filter(pk__in=company_ids(user)).order_by("name"))


def _consignment_lines(request, data=None):
    from django.urls import reverse

    return ConsignmentLineFormSet(data, form_kwargs={"search_url": reverse("warehouses:consignment_skus")}, prefix="lines")


def _one_more_line(post):
    """The no-script "Add a line" button: the same form again with one more empty line."""
    data = post.copy()
    key = "lines-TOTAL_FORMS"
    try:
        data[key] = str(min(int(data.get(key, "0")) + 1, 200))
    except ValueError:
        data[key] = "1"
    return data


def _known_crossing(places, origin: str, warehouse: str) -> str:
    """The crossing the route takes when the seller left the choice to the route (the preview names it)."""
    from . import routes

    warehouses, origins, _crossings = places
    wh = next((w for w in warehouses if w.code == warehouse), None)
    start = next((p for p in origins if p.code == origin), None)
    if wh is None or start is None or start.country_id == wh.country_id:
        return ""
    return routes.crossing_for(start.code, wh.country_id)


@login_required
def consignment_new(request):
    """A seller's consignment: route (From defaults to the seller's own country, the legs shown as
    From and To change), lines of their own SKUs picked by search, added and removed as needed, with
    declared values; saved as a draft or submitted at once."""
    from core.money import Money

    companies = _seller_companies(request.user)
    if SELLER not in roles_of(request.user) or not companies:
        raise Http404
    places = selectors.consignment_places()
    defaults = selectors.consignment_defaults(country=companies[0].country_id, warehouses=places[0], places=places[1])
    adding = request.method == "POST" and "add_line" in request.POST
    data = _one_more_line(request.POST) if adding else (request.POST or None)
    form = ConsignmentForm(data, companies=companies, places=places, initial=defaults)
    lines = _consignment_lines(request, data)
    if request.method == "POST" and not adding and form.is_valid() and lines.is_valid():
        head = form.cleaned_data
        filled = [(i, ln) for i, ln in enumerate(lines.cleaned_data) if ln.get("sku") and not ln.get("DELETE")]
        codes = {ln["sku"] for _i, ln in filled}
        own = dict(Sku.objects.filter(company_id=head["company"], code__in=codes).values_list("code", "pk"))
        unknown = [i for i, ln in filled if ln["sku"] not in own]
        for i in unknown:
            lines.forms[i].add_error("sku", _("Not one of your company's SKUs."))
        if not filled:
            form.add_error(None, _("Add at least one line."))
        if filled and not unknown:
            crossing = head["border_crossing"] or _known_crossing(places, head["origin"], head["warehouse"])
            try:
                consignment = services.consignment_create(
                    company_id=head["company"], warehouse=head["warehouse"], origin=head["origin"],
                    border_crossing=crossing or None, note=head["note"], actor=request.user,
                    lines=[(own[ln["sku"]], ln["quantity"],
                            Money.of(str(ln["declared_value"]), head["currency"]) if ln.get("declared_value") else None)
                           for _i, ln in filled],
                )
                if "submit" in request.POST:
                    services.consignment_submit(consignment=consignment, actor=request.user)
            except DomainError as exc:
                positions = {f"lines.{n}": i for n, (i, _ln) in enumerate(filled)}
                for field, msgs in exc.fields.items():
                    head_, _dot, name = field.rpartition(".")
                    if head_ in positions and name in ("sku", "quantity", "declared_value"):
                        for msg in msgs:
                            lines.forms[positions[head_]].add_error(name, msg)
                    elif field in positions:
                        for msg in msgs:
                            lines.forms[positions[field]].add_error(None, msg)
                    else:
                        for msg in msgs:
                            form.add_error(field if field in form.fields else None, msg)
                if not exc.fields:
                    form.add_error(None, exc.message)
                if "consignment" in locals():
                    # Saved as a draft, but customs data are missing: show it where the seller can see why.
                    messages.error(request, exc.message)
                    return redirect("warehouses:consignment", pk=consignment.pk)
            else:
                messages.success(request, _("Consignment %(number)s saved.") % {"number": consignment.number})
                return redirect("warehouses:consignment", pk=consignment.pk)
    head = {name: (form[name].value() or "") for name in ("origin", "warehouse", "border_crossing")}
    return render(request, "warehouses/consignment_new.html", {
        "form": form, "lines": lines, "has_skus": Sku.objects.filter(company__in=companies).exists(),
        "route": selectors.consignment_route(language=get_language() or "en", **head),
    })


@login_required
def consignment_route(request):
    """The route's legs and border crossing for From, To and the crossing chosen (htmx partial)."""
    if SELLER not in roles_of(request.user) and STAFF not in roles_of(request.user):
        raise Http404
    route = selectors.consignment_route(origin=request.GET.get("origin", ""), warehouse=request.GET.get("warehouse", ""),
                                        border_crossing=request.GET.get("border_crossing", ""),
                                        language=get_language() or "en")
    return render(request, "warehouses/_route_preview.html", {"route": route})


@login_required
def consignment_skus(request):
    """The seller's SKUs matching what is typed in a line (htmx partial): code or name."""
    companies = _seller_companies(request.user)
    if SELLER not in roles_of(request.user) or not companies:
        raise Http404
    ids = [c.pk for c in companies]
    chosen = request.GET.get("company", "")
    if chosen.isdigit() and int(chosen) in ids:
        ids = [int(chosen)]
    q = request.GET.get("q") or next((v for k, v in request.GET.items() if k.endswith("-sku")), "")
    return render(request, "warehouses/_sku_results.html", {"skus": selectors.sku_search(company_ids=ids, q=q), "q": q})


@login_required
@require_POST
def consignment_action(request, pk, verb):
    if verb not in {"submit", "cancel"}:
        raise Http404
    consignment = get_visible(request.user, _consignments(request.user), pk=pk)
    try:
        if verb == "submit":
            services.consignment_submit(consignment=consignment, actor=request.user)
            messages.success(request, _("Consignment %(number)s submitted.") % {"number": consignment.number})
        else:
            services.consignment_cancel(consignment=consignment, actor=request.user)
            messages.success(request, _("Consignment %(number)s cancelled.") % {"number": consignment.number})
    except DomainError as exc:
        details = [m for msgs in exc.fields.values() for m in msgs]
        messages.error(request, " ".join([exc.message, *details]))
    return redirect("warehouses:consignment", pk=consignment.pk)


@login_required
def consignment_detail(request, pk):
    consignment = get_visible(request.user, _consignments(request.user), pk=pk)
    can_receive = (may_operate(request.user, consignment.warehouse_id) and consignment.status == Consignment.Status.CUSTOMS)
    errors = {}
    if request.method == "POST" and can_receive:
        counts = {line.pk: request.POST.get(f"counted_{line.pk}", "").strip() for line in consignment.lines.all()}
        notes = {line.pk: request.POST.get(f"note_{line.pk}", "") for line in consignment.lines.all()}
        try:
            services.consignment_receive(consignment=consignment, counts=counts, notes=notes, actor=request.user)
        except DomainError as exc:
            errors = exc.fields
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Consignment %(number)s received.") % {"number": consignment.number})
            return redirect("warehouses:consignment", pk=consignment.pk)
    from core.states import history

    events = list(history(consignment).filter(machine=consignment.machine.name))
    legs = consignment.legs or []
    names = place_names([e.place for e in events] + [code for leg in legs for code in (leg.get("from"), leg.get("to"))],
                        get_language() or "en")
    labels = dict(Consignment.Status.choices)
    for e in events:
        e.label = labels.get(e.to_state, e.to_state)
        e.place_name = names.get(e.place, e.place)
    route = [{"from": names.get(leg.get("from"), leg.get("from")), "to": names.get(leg.get("to"), leg.get("to")),
              "mode": MODES.get(leg.get("mode"), leg.get("mode"))} for leg in legs]
    lines = list(consignment.lines.all())
    line_errors = {line.pk: errors.get(f"lines.{i}.counted", []) for i, line in enumerate(lines)}
    return render(request, "warehouses/consignment_detail.html", {
        "c": consignment, "lines": [(ln, line_errors.get(ln.pk, []), request.POST.get(f"counted_{ln.pk}", ""))
                                    for ln in lines],
        "events": events, "route": route, "can_receive": can_receive, "errors": errors,
        "is_seller": consignment.company_id in _company_ids(request.user),
        "operated": _operated_list(request.user) if may_operate(request.user, consignment.warehouse_id) else [],
    })


@login_required
def picking(request, code):
    warehouse = _operated(request, code)
    open_fulfilments = (Fulfilment.objects.filter(warehouse=warehouse)
                        .exclude(status__in=[Fulfilment.Status.SHIPPED, Fulfilment.Status.CANCELLED])
                        .prefetch_related("parcels").order_by("created_at", "id"))
    shipped = Fulfilment.objects.filter(warehouse=warehouse, status=Fulfilment.Status.SHIPPED).prefetch_related(
        "parcels").order_by("-shipped_at")[:20]
    return render(request, "warehouses/picking.html", _console(
        request, warehouse, "picking", picks=selectors.pick_list(warehouse=warehouse), fulfilments=list(open_fulfilments),
        shipped=list(shipped), pack_form=PackForm()))


@login_required
@require_POST
def fulfilment_action(request, code, pk, verb):
    if verb not in {"pick", "pack", "ship"}:
        raise Http404
    warehouse = _operated(request, code)
    fulfilment = get_visible(request.user, Fulfilment.objects.filter(warehouse=warehouse), pk=pk)
    try:
        if verb == "pick":
            services.fulfilment_pick(fulfilment=fulfilment, actor=request.user)
        elif verb == "pack":
            form = PackForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("Enter the weight and the three dimensions of the parcel."))
                return redirect("warehouses:picking", code=warehouse.code)
            services.parcel_pack(fulfilment=fulfilment, parcels=[form.cleaned_data], actor=request.user)
        elif verb == "ship":
            services.fulfilment_ship(fulfilment=fulfilment, actor=request.user)
        messages.success(request, _("Order %(reference)s: done.") % {"reference": fulfilment.reference})
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("warehouses:picking", code=warehouse.code)

