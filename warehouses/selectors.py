"""Reads of the warehouses app, each in a fixed number of queries."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count, DateTimeField, F, IntegerField, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from core import sql
from core.access import visible
from core.errors import DomainError, ErrorCode
from core.models import Company

from . import interface
from .models import (
    NEVER_AGED,
    BondStatus,
    Fulfilment,
    Movement,
    Parcel,
    Reservation,
    ReservationLine,
    Sku,
    StockLevel,
    Warehouse,
)


def available_by_sku(sku_ids, warehouse_codes) -> dict[int, int]:
    """Available units (on hand - reserved, bonded and released) per SKU over the warehouses.

    One query; SKUs without stock map to 0. Uses index stock_level_sku_idx.
    """
    ids = list(sku_ids)
    result = dict.fromkeys(ids, 0)
    if not ids:
        return result
    rows = (
        StockLevel.objects.filter(sku_id__in=ids, warehouse_id__in=list(warehouse_codes))
        .values("sku_id").annotate(available=Sum(F("on_hand") - F("reserved")))
    )
    for row in rows:
        result[row["sku_id"]] = row["available"] or 0
    return result


def warehouse_list(*, user):
    return visible(user, Warehouse.objects.filter(is_active=True).select_related("country", "place"))


# Each sort ends with the primary key, so the order is total and a keyset cursor is exact.
SORTS = {
    "sku": ("sku__code", "bond_status", "id"),
    "seller": ("sku__company__name", "sku__code", "id"),
    "on_hand": ("on_hand", "id"),
    "reserved": ("reserved", "id"),
    "available": ("available_units", "id"),
    "age": ("age_key", "id"),
}
NEVER = NEVER_AGED


def stock_levels(*, user, warehouse: Warehouse, q: str = "", bond_status: str = "", low: bool = False,
                 seller: int | None = None, sort: str = "sku", descending: bool = False, include_empty: bool = False):
    """The stock table of a warehouse: one queryset, SKU and seller joined (one query a page)."""
    qs = visible(user, StockLevel.objects.filter(warehouse=warehouse)).select_related("sku", "sku__company")
    qs = qs.annotate(available_units=F("on_hand") - F("reserved"),
                     age_key=Coalesce("aged_since", Value(NEVER), output_field=DateTimeField()))
    if not include_empty:
        qs = qs.filter(Q(on_hand__gt=0) | Q(reserved__gt=0))
    if q:
        # One semi-join on the matching SKUs, so the planner starts from the few matches.
        # Uses index sku_code_trgm / sku_name_trgm (PostgreSQL) and stock_level_sku_idx.
        by_sku = Sku.objects.filter(Q(code__icontains=q) | Q(name__icontains=q)).values("pk")
        by_seller = Sku.objects.filter(company__in=Company.objects.filter(name__icontains=q).values("pk")).values("pk")
        qs = qs.filter(sku__in=by_sku.union(by_seller))
    if bond_status in BondStatus.values:
        qs = qs.filter(bond_status=bond_status)
    if low:
        qs = qs.filter(available_units__lte=F("sku__low_stock_threshold"))
    if seller:
        qs = qs.filter(sku__company_id=seller)
    fields = SORTS.get(sort, SORTS["sku"])
    return qs.order_by(*[f"-{f}" if descending else f for f in fields])


@dataclass(frozen=True)
class KeysetPage:
    """One page of a keyset (cursor) pagination: no COUNT, no OFFSET, the same cost on page 1 and
    page 2,000. Cursors are opaque strings for the ``cursor`` query parameter."""

    rows: list
    next_cursor: str | None
    prev_cursor: str | None


def _encode(direction: str, values: list) -> str:
    raw = json.dumps([direction, [v.isoformat() if isinstance(v, datetime) else v for v in values]],
                     separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, width: int) -> tuple[str, list | None]:
    """A garbled or foreign cursor means the first page (a user may edit the URL)."""
    if not cursor:
        return "n", None
    try:
        direction, values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError):
        return "n", None
    if direction not in ("n", "p") or not isinstance(values, list) or len(values) != width:
        return "n", None
    if not all(isinstance(v, str | int) and not isinstance(v, bool) for v in values):
        return "n", None
    return direction, values


def _value(row, field: str):
    for part in field.split("__"):
        row = getattr(row, part)
    return row


def _beyond(fields, values, descending: bool) -> Q:
    """Rows strictly after ``values`` in the order of ``fields``: (a > x) or (a = x and b > y) ..."""
    op = "lt" if descending else "gt"
    condition = Q()
    for i, field in enumerate(fields):
        step = Q(**{f"{field}__{op}": values[i]})
        for prior, value in zip(fields[:i], values[:i], strict=False):
            step &= Q(**{prior: value})
        condition |= step
    return condition


def keyset_page(qs, fields, *, descending: bool = False, cursor: str = "", size: int = 50) -> KeysetPage:
    """The page of ``qs`` after (or before) ``cursor`` in the order of ``fields`` (last one unique).

    One query of ``size + 1`` rows: the extra row says whether another page follows.
    """
    direction, values = _decode(cursor, len(fields))
    backwards = direction == "p"
    desc = descending != backwards
    if values is not None:
        try:
            qs = qs.filter(_beyond(fields, values, desc))
        except (ValueError, TypeError, ValidationError):
            values, backwards, desc = None, False, descending
    rows = list(qs.order_by(*[f"-{f}" if desc else f for f in fields])[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    has_next = more if not backwards else True
    has_prev = values is not None if not backwards else more
    return KeysetPage(
        rows=rows,
        next_cursor=_encode("n", [_value(rows[-1], f) for f in fields]) if rows and has_next else None,
        prev_cursor=_encode("p", [_value(rows[0], f) for f in fields]) if rows and has_prev else None,
    )


def stock_summary(*, user, warehouse: Warehouse) -> dict:
    qs = visible(user, StockLevel.objects.filter(warehouse=warehouse))
    return qs.aggregate(
        skus=Count("sku_id", distinct=True, filter=Q(on_hand__gt=0)),
        units=Coalesce(Sum("on_hand"), 0),
        held=Coalesce(Sum("reserved"), 0),
        bonded=Coalesce(Sum("on_hand", filter=Q(bond_status=BondStatus.BONDED)), 0),
        low=Count("id", filter=Q(on_hand__gt=0) & Q(on_hand__lte=F("reserved") + F("sku__low_stock_threshold"))),
    )


OVERVIEW_TTL = 300


def stock_overview(*, user, warehouse: Warehouse) -> tuple[dict, dict]:
    """The KPIs and the 30-day chart of the stock page, cached per warehouse until its next movement.

    Both aggregate the whole warehouse (100,000 levels, every movement of a month); the key carries
    the warehouse's latest movement id, so any stock change shows on the next page load. One indexed
    query when cached. Only operators and staff reach the stock page, and both see the whole warehouse.
    """
    from django.core.cache import cache

    latest = (Movement.objects.filter(warehouse=warehouse).order_by("-at", "-id").values_list("id", flat=True)[:1])
    key = f"warehouses:overview:{warehouse.code}:{next(iter(latest), 0)}:{timezone.localdate().isoformat()}"
    cached = cache.get(key)
    if cached is None:
        cached = (stock_summary(user=user, warehouse=warehouse), daily_flows(user=user, warehouse=warehouse))
        cache.set(key, cached, OVERVIEW_TTL)
    return cached


def movement_list(*, user, warehouse: Warehouse | None = None, sku: str = "", kind: str = "", reference: str = "",
                  date_from: date | None = None, date_to: date | None = None):
    qs = visible(user, Movement.objects.all()).select_related("sku", "sku__company")
    if warehouse is not None:
        qs = qs.filter(warehouse=warehouse)
    if sku:
        qs = qs.filter(Q(sku__code__iexact=sku) | Q(sku__code__istartswith=sku))
    if kind in Movement.Kind.values:
        qs = qs.filter(kind=kind)
    if reference:
        qs = qs.filter(reference__istartswith=reference)
    if date_from:
        qs = qs.filter(at__date__gte=date_from)
    if date_to:
        qs = qs.filter(at__date__lte=date_to)
    # Uses index movement_warehouse_at_idx.
    return qs.order_by("-at", "-id")


INFLOW = [Movement.Kind.RECEIPT, Movement.Kind.TRANSFER_IN, Movement.Kind.RETURN]
OUTFLOW = [Movement.Kind.SHIP, Movement.Kind.TRANSFER_OUT]


def daily_flows(*, user, warehouse: Warehouse, days: int = 30) -> dict:
    """Units in (receipts, transfers in, returns) and out (shipments, transfers out) per day, oldest first."""
    today = timezone.localdate()
    start = today - timedelta(days=days - 1)
    rows = (
        visible(user, Movement.objects.filter(warehouse=warehouse, at__date__gte=start, kind__in=INFLOW + OUTFLOW))
        .annotate(day=TruncDate("at")).values("day")
        .annotate(
            inflow=Coalesce(Sum("on_hand_delta", filter=Q(kind__in=INFLOW)), 0),
            outflow=Coalesce(Sum(-F("on_hand_delta"), filter=Q(kind__in=OUTFLOW), output_field=IntegerField()), 0),
        )
    )
    by_day = {row["day"]: row for row in rows}
    labels = [start + timedelta(days=i) for i in range(days)]
    return {
        "labels": [d.isoformat() for d in labels],
        "inflow": [by_day.get(d, {}).get("inflow", 0) for d in labels],
        "outflow": [by_day.get(d, {}).get("outflow", 0) for d in labels],
    }


@dataclass(frozen=True)
class PickRow:
    location: str
    sku_id: int
    sku_code: str
    sku_name: str
    bond_status: str
    quantity: int
    references: list[str]

    @property
    def bond_label(self) -> str:
        return BondStatus(self.bond_status).label


def pick_list(*, warehouse: Warehouse) -> list[PickRow]:
    """Unshipped lines of the orders awaiting picking, grouped by bin location then SKU (one query).

    The database sums per (location, SKU, bond status, reference); the references are gathered here,
    so the same query runs on PostgreSQL and SQLite (no ARRAY_AGG).
    """
    rows = (
        ReservationLine.objects.filter(
            warehouse=warehouse, shipped_at__isnull=True,
            reservation__status=Reservation.Status.ACTIVE,
            reservation__fulfilments__warehouse=warehouse,
            reservation__fulfilments__status__in=[Fulfilment.Status.REQUESTED, Fulfilment.Status.PICKING],
        )
        .values("level__location", "sku_id", "sku__code", "sku__name", "bond_status", "reservation__reference")
        .annotate(quantity=Sum("quantity"))
        .order_by("level__location", "sku__code", "sku_id", "bond_status")
    )
    picks: dict[tuple, PickRow] = {}
    for r in rows:  # one row per reference within a (location, SKU, bond status) group
        key = (r["level__location"], r["sku_id"], r["bond_status"])
        pick = picks.get(key)
        if pick is None:
            picks[key] = PickRow(location=r["level__location"] or "", sku_id=r["sku_id"], sku_code=r["sku__code"],
                                 sku_name=r["sku__name"], bond_status=r["bond_status"], quantity=r["quantity"],
                                 references=[r["reservation__reference"]])
        else:
            picks[key] = replace(pick, quantity=pick.quantity + r["quantity"],
                                 references=[*pick.references, r["reservation__reference"]])
    return [replace(pick, references=sorted(pick.references)) for pick in picks.values()]


@dataclass(frozen=True)
class Drift:
    warehouse: str
    sku_id: int
    bond_status: str
    field: str
    level: int
    expected: int

    def __str__(self):
        return f"{self.warehouse}/{self.sku_id}/{self.bond_status} {self.field}: level {self.level}, ledger {self.expected}"


def stock_drift() -> list[Drift]:
    """Levels that differ from their recomputed ledger, and reserved units no reservation holds.

    Three aggregate queries whatever the size; ``manage.py check_stock`` reports the result.
    """
    ledger = {
        (r["warehouse_id"], r["sku_id"], r["bond_status"]): (r["on_hand"], r["reserved"])
        for r in Movement.objects.values("warehouse_id", "sku_id", "bond_status")
        .annotate(on_hand=Sum("on_hand_delta"), reserved=Sum("reserved_delta")).order_by()
    }
    held = {
        r["level_id"]: r["quantity"]
        for r in ReservationLine.objects.filter(shipped_at__isnull=True, reservation__status=Reservation.Status.ACTIVE)
        .values("level_id").annotate(quantity=Sum("quantity")).order_by()
    }
    drifts = []
    seen = set()
    for level in StockLevel.objects.values("id", "warehouse_id", "sku_id", "bond_status", "on_hand", "reserved"):
        key = (level["warehouse_id"], level["sku_id"], level["bond_status"])
        seen.add(key)
        on_hand, reserved = ledger.get(key, (0, 0))
        for name, have, want in (("on_hand", level["on_hand"], on_hand), ("reserved", level["reserved"], reserved),
                                 ("reserved_by_reservations", level["reserved"], held.get(level["id"], 0))):
            if have != want:
                drifts.append(Drift(*key, name, have, want))
    for key, (on_hand, reserved) in ledger.items():
        if key not in seen and (on_hand or reserved):
            drifts.append(Drift(*key, "missing_level", 0, on_hand))
    return drifts


def oldest_bonded_days(levels) -> dict[int, int | None]:
    now = timezone.now()
    return {lv.pk: (now - lv.aged_since).days if lv.aged_since and lv.bond_status == BondStatus.BONDED else None for lv in levels}



def allocation_preview(*, lines: list[tuple[int, int]], storefront_warehouses: list[str],
                       buyer_country: str, refuse_short: bool = False,
                       read: list[tuple] | None = None) -> list[interface.ReservationLine] | None:
    """Where ``stock_reserve`` would take the units from now, without reserving anything: a checkout
    quotes the landed cost from it before the order is placed. None when some line is short, or with
    ``refuse_short`` the reservation's own refusal (409 ``insufficient_stock`` naming the first short
    line ``lines.<i>`` with what is available), so that a sold-out product's buyers are refused from
    this read, without a transaction. The same allocation rule as the reservation
    (:func:`allocation_plan`; on PostgreSQL the ranking of ``warehouses_stock_reserve``, migration
    0011, in one statement without locks).

    ``read``: the rows of :func:`allocation_preview_sql` for these very lines, warehouses and
    country, which the caller read within a statement of its own (a checkout reads them with the
    storefront: one round trip fewer)."""
    wanted: dict[int, int] = {}
    for sku_id, quantity in lines:
        wanted[sku_id] = wanted.get(sku_id, 0) + quantity
    if read is not None:
        rows = [tuple(row[:4]) for row in read]
    elif connection.vendor == "postgresql":
        rows = [row[:4] for row in sql.fetch(_PREVIEW_SQL, [list(wanted), list(wanted.values()), buyer_country,
                                                             sorted(set(storefront_warehouses))])]
    else:
        codes = list(Warehouse.objects.filter(code__in=list(storefront_warehouses), is_active=True)
                     .values_list("code", flat=True))
        rows = []
        for sku_id, quantity in wanted.items():
            plan = allocation_plan(sku_id, quantity, codes, buyer_country)
            if not plan:  # short: what there is, as the PostgreSQL ranking returns it
                plan = allocation_plan(sku_id, 0, codes, buyer_country, everything=True)
            rows += [(sku_id, level.warehouse_id, level.bond_status, take) for level, take in plan]
    # Short, the ranking returns every level with units, whole: what a line takes is what is there.
    taken: dict[int, int] = dict.fromkeys(wanted, 0)
    for sku_id, _warehouse, _bond, take in rows:
        taken[sku_id] += take
    if taken != wanted:
        if refuse_short:
            positions = {sku_id: i for i, (sku_id, _qty) in reversed(list(enumerate(lines)))}
            sku_id = min((s for s in wanted if taken[s] < wanted[s]), key=positions.__getitem__)
            raise short_stock(positions[sku_id], taken[sku_id], wanted[sku_id])
        return None
    return [interface.ReservationLine(sku_id=sku_id, warehouse=warehouse, bond_status=bond, quantity=take)
            for sku_id, warehouse, bond, take in rows]


def fulfilment_states(references) -> list[interface.FulfilmentEvent]:
    """Where the fulfilments of ``references`` stand now, as the events their callbacks carry
    (picked up, packed or shipped, with the parcels' tracking numbers once shipped); those still
    requested are left out. Two queries whatever the number. For a caller repairing a lost callback."""
    moved = [Fulfilment.Status.PICKING, Fulfilment.Status.PACKED, Fulfilment.Status.SHIPPED]
    rows = list(Fulfilment.objects.filter(reference__in=sorted(set(references)), status__in=moved)
                .order_by("reference", "warehouse_id").values_list("pk", "reference", "warehouse_id", "status"))
    numbers: dict[int, list[str]] = {}
    shipped = [pk for pk, _ref, _wh, status in rows if status == Fulfilment.Status.SHIPPED]
    for fulfilment_id, number in (Parcel.objects.filter(fulfilment_id__in=shipped).order_by("pk")
                                  .values_list("fulfilment_id", "tracking_number") if shipped else []):
        numbers.setdefault(fulfilment_id, []).append(number)
    return [interface.FulfilmentEvent(reference=ref, warehouse=wh, status=status, tracking_numbers=numbers.get(pk, []))
            for pk, ref, wh, status in rows]


def short_stock(position: int, available: int, wanted: int) -> DomainError:
    """The refusal of a reservation's line ``position`` short of units (409 ``insufficient_stock``)."""
    from django.utils.translation import gettext as _

    return DomainError(ErrorCode.INSUFFICIENT_STOCK, _("Not enough stock."),
                       {f"lines.{position}": [_("Only %(available)s available, %(wanted)s wanted.")
                                              % {"available": available, "wanted": wanted}]})


def allocation_preview_sql(*, want: str, country: str, warehouses: str) -> str:
    """The query of :func:`allocation_preview`, for a caller that reads it within a statement of its
    own (PostgreSQL): ``want`` a query of ``(sku_id, qty)`` rows, one per SKU; ``country`` and
    ``warehouses`` SQL expressions for the buyer's country and the storefront's warehouse codes
    (placeholders allowed). Its rows, ``(sku_id, warehouse_id, bond_status, take, upto)`` in the
    order of the ranking (``ORDER BY sku_id, upto``), go to ``allocation_preview(read=...)``."""
    return _PREVIEW_TEMPLATE.format(want=want, country=country, warehouses=warehouses)


# The levels the allocation rule takes from, with what it takes from each.
_PREVIEW_TEMPLATE = """
WITH want (sku_id, qty) AS ({want}),
ranked AS (
    SELECT l.sku_id, l.warehouse_id, l.bond_status, l.on_hand - l.reserved AS available, want.qty,
           sum(l.on_hand - l.reserved) OVER (
               PARTITION BY l.sku_id
               ORDER BY w.country_id <> {country}, l.bond_status <> 'released', w.priority, l.warehouse_id
               ROWS UNBOUNDED PRECEDING) AS upto
      FROM warehouses_stocklevel l JOIN want ON want.sku_id = l.sku_id JOIN warehouses_warehouse w ON w.code = l.warehouse_id
     WHERE w.code = ANY({warehouses}) AND w.is_active AND l.on_hand > l.reserved)
SELECT sku_id, warehouse_id, bond_status, least(available, qty - (upto - available)) AS take, upto
  FROM ranked WHERE upto - available < qty ORDER BY sku_id, upto
"""
_PREVIEW_SQL = allocation_preview_sql(want="SELECT * FROM unnest(%s::bigint[], %s::int[])", country="%s",
                                      warehouses="%s::text[]")


def _allocation_key(level: StockLevel, buyer_country: str):
    warehouse = level.warehouse
    domestic = warehouse.country_id == buyer_country
    return (0 if domestic else 1, 0 if level.bond_status == BondStatus.RELEASED else 1, warehouse.priority, warehouse.code)


def allocation_plan(sku_id: int, quantity: int, warehouses: list[str], buyer_country: str,
                    everything: bool = False) -> list[tuple[StockLevel, int]]:
    """Where ``quantity`` units of the SKU come from, by the allocation rule: the buyer's own country
    first, released stock before bonded, then warehouse priority; [] when the units are short
    (``everything``: every level with units, whole, whatever ``quantity``). Read without locks: the
    reservation plans again under its lock, a checkout quote reads it as is."""
    levels = (
        StockLevel.objects.filter(sku_id=sku_id, warehouse_id__in=warehouses, on_hand__gt=F("reserved"))
        .select_related("warehouse")
    )
    ranked = sorted(levels, key=lambda lv: _allocation_key(lv, buyer_country))
    if everything:
        return [(level, level.available) for level in ranked]
    plan, remaining = [], quantity
    for level in ranked:
        take = min(level.available, remaining)
        plan.append((level, take))
        remaining -= take
        if remaining == 0:
            break
    return plan if remaining == 0 else []


# --- the seller's dashboard ---------------------------------------------------------------------

IN_TRANSIT_STATUSES = ("submitted", "in_transit", "at_border", "customs")


def seller_stock(*, company_ids) -> object:
    """The stock levels of the companies' SKUs, SKU then warehouse: a queryset to paginate (a count
    and a page). Uses index stock_level_sku_idx through the SKUs of the companies."""
    return (StockLevel.objects.filter(sku__company_id__in=list(company_ids))
            .select_related("sku", "warehouse__place").order_by("sku__code", "warehouse_id", "bond_status", "id"))


def in_transit_by_sku(*, company_ids, sku_ids=None) -> dict[tuple[int, str], int]:
    """Units on consignments not yet received, per (SKU, destination warehouse). One query."""
    from .models import ConsignmentLine

    qs = ConsignmentLine.objects.filter(consignment__company_id__in=list(company_ids),
                                        consignment__status__in=IN_TRANSIT_STATUSES)
    if sku_ids is not None:
        qs = qs.filter(sku_id__in=list(sku_ids))
    rows = qs.values("sku_id", "consignment__warehouse_id").annotate(units=Sum("expected_qty"))
    return {(row["sku_id"], row["consignment__warehouse_id"]): row["units"] or 0 for row in rows}


def seller_consignments_open(*, company_ids, limit: int = 10) -> list:
    """Consignments on their way (submitted, in transit, at the border, in customs), newest first,
    with their units. One query."""
    from .models import Consignment

    return list(Consignment.objects.filter(company_id__in=list(company_ids), status__in=IN_TRANSIT_STATUSES)
                .select_related("warehouse__place", "origin", "border_crossing")
                .annotate(units=Coalesce(Sum("lines__expected_qty"), 0)).order_by("-created_at", "-id")[:limit])


def seller_discrepancies(*, company_ids, days: int = 90, limit: int = 10) -> list:
    """Counted quantities that differed from the expected ones in the last ``days``, newest first. One query."""
    from .models import Discrepancy

    since = timezone.now() - timedelta(days=days)
    return list(Discrepancy.objects.filter(consignment__company_id__in=list(company_ids), created_at__gte=since)
                .select_related("consignment", "sku").order_by("-created_at", "-id")[:limit])


def sku_search(*, company_ids, q: str, limit: int = 10) -> list[Sku]:
    """The companies' SKUs whose code or name contains ``q``, codes starting with it first. One query."""
    q = (q or "").replace("\x00", "").strip()  # PostgreSQL text holds no NUL: it could match nothing anyway
    qs = Sku.objects.filter(company_id__in=list(company_ids)).order_by("code")
    if q:
        qs = qs.filter(Q(code__icontains=q) | Q(name__icontains=q))
    rows = list(qs[: limit * 3])
    rows.sort(key=lambda s: (not s.code.lower().startswith(q.lower()), s.code))
    return rows[:limit]


def consignment_places() -> tuple[list, list, list]:
    """What a consignment form offers: active warehouses (with their place), the places goods may
    leave from (not border crossings) and the border crossings. Three queries."""
    from core.models import Place

    warehouses = list(Warehouse.objects.filter(is_active=True).select_related("place").order_by("priority", "code"))
    places = list(Place.objects.exclude(kind="border_crossing").order_by("code"))
    crossings = list(Place.objects.filter(kind="border_crossing").order_by("code"))
    return warehouses, places, crossings


def consignment_defaults(*, country: str, warehouses: list, places: list) -> dict:
    """A sensible start for a seller in ``country``: "To" is the first warehouse across the Chinese
    border (a Chinese seller stocks Central Asia's bonded warehouses; a Central Asian one the Chinese
    side), "From" the seller's own country's warehouse or dry port (else a place in that country),
    never the destination; and the crossing the route takes."""
    from . import routes

    across = [w for w in warehouses if (w.country_id == "CN") != (country == "CN")]
    abroad = [w for w in warehouses if w.country_id != country]
    to = (across or abroad or warehouses or [None])[0]
    to_code = to.code if to else ""
    home = ([w.code for w in warehouses if w.country_id == country and w.code != to_code]
            + [p.code for p in places if p.kind == "dry_port" and p.country_id == country and p.code != to_code]
            + [p.code for p in places if p.country_id == country and p.code != to_code])
    origin = home[0] if home else ""
    crossing = routes.crossing_for(origin, to.country_id) if to and origin and country != to.country_id else ""
    return {"warehouse": to_code, "origin": origin, "border_crossing": crossing}


def consignment_route(*, origin: str, warehouse: str, border_crossing: str = "", language: str = "en") -> dict:
    """The route a consignment would take, for the form's preview: its legs (place names in
    ``language``, mode, days, basis), the crossing, the total days, or what is missing. Two queries."""
    from django.utils.translation import gettext as _

    from core.models import Place

    from . import routes

    wh = Warehouse.objects.filter(code=warehouse, is_active=True).first() if warehouse else None
    # Every place the route may name, in one query: the crossing chosen, or the one the route knows.
    known = routes.crossing_for(origin, wh.country_id) if wh else ""
    codes = {origin, border_crossing, known} - {""}
    places = {p.code: p for p in Place.objects.filter(code__in=codes | ({wh.place_id} if wh else set()))}
    start, crossing = places.get(origin), places.get(border_crossing) if border_crossing else None
    out = {"legs": [], "crossing": None, "problem": "", "days_min": 0, "days_max": 0}
    if wh is None or start is None:
        out["problem"] = _("Choose where the goods leave from and the warehouse they go to.")
        return out
    if start.code == wh.code:
        out["problem"] = _("The origin is the destination warehouse.")
        return out
    origin_country = start.country_id or (start.countries.split(";")[0] if start.countries else "")
    legs = routes.consignment_legs(origin=start.code, origin_country=origin_country, warehouse=wh.code,
                                   warehouse_country=wh.country_id, crossing=crossing.code if crossing else "")
    if not legs:
        out["problem"] = _("No known route crosses into this country from there: choose the border crossing.")
        return out
    names = {code: place.name(language) for code, place in places.items()}
    for leg in legs:
        out["legs"].append({"origin": names.get(leg.origin, leg.origin), "destination": names.get(leg.destination, leg.destination),
                            "mode": str(routes.MODES.get(leg.mode, leg.mode)), "days_min": leg.days_min,
                            "days_max": leg.days_max, "basis": leg.basis,
                            "crossing": leg.destination.startswith("BC-")})
    crossing_code = next((leg.destination for leg in legs if leg.destination.startswith("BC-")), "")
    out["crossing"] = names.get(crossing_code) if crossing_code else None
    out["suggested"] = crossing_code if crossing_code and not border_crossing else ""
    out["days_min"] = sum(leg.days_min for leg in legs)
    out["days_max"] = sum(leg.days_max for leg in legs)
    return out
