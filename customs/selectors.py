"""Customs reads, with fixed query counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date as Date
from datetime import datetime

from django.db.models import Prefetch, QuerySet

from core.access import visible
from core.money import Money
from core.states import history
from core.texts import note

from .interface import DeclarationInfo
from .models import Declaration, DeclarationDocument, DeclarationLine
from .rules.data import VERSION_SQL

# The rules' version as a scalar subquery: a caller reads it with a statement of its own and hands
# it to ``services.quote(rules_version=...)`` (an order's placement reads it with its storefront).
RULES_VERSION_SQL = VERSION_SQL


def info(declaration: Declaration) -> DeclarationInfo:
    """A declaration as plain data for other apps."""
    return DeclarationInfo(
        id=declaration.pk, reference=declaration.reference, kind=declaration.kind, status=declaration.status,
        channel=declaration.channel, regime=declaration.regime, importer_country=declaration.importer_country,
        registration_number=declaration.registration_number,
        customs_value=Money(declaration.customs_value_minor, declaration.currency),
        duties=Money(declaration.total_minor, declaration.currency), rejection_reason=declaration.rejection_reason,
    )


def declaration_for(reference: str) -> DeclarationInfo | None:
    declaration = Declaration.objects.filter(reference=reference).first()
    return info(declaration) if declaration else None


# The columns :func:`info` reads: a batch reads neither the breakdown nor the warnings (JSON
# decoded per row, most of the time of a hundred declarations).
INFO_FIELDS = ("id", "reference", "kind", "status", "channel", "regime", "importer_country", "registration_number",
               "customs_value_minor", "currency", "duty_minor", "vat_minor", "excise_minor", "fees_minor",
               "rejection_reason")


def declarations_for(references) -> dict[str, DeclarationInfo]:
    """The declarations of ``references``, by reference (one query whatever their number)."""
    return {d.reference: info(d) for d in Declaration.objects.filter(reference__in=sorted(set(references))).only(*INFO_FIELDS)}


def parcel_customs(reference: str) -> dict | None:
    """What a buyer sees of the customs side of a parcel: the declaration, its regime, status,
    channel, duties and its status events (two queries), or None before it is filed."""
    declaration = Declaration.objects.filter(reference=reference).first()
    if declaration is None:
        return None
    events = [{"status": e.to_state, "at": e.at, "actor": e.actor_label, "note": note(e.reason, e.payload)}
              for e in history(declaration)]
    return {
        "declaration": declaration.pk, "regime": declaration.regime, "status": declaration.status,
        "channel": declaration.channel, "registration_number": declaration.registration_number,
        "duties": Money(declaration.total_minor, declaration.currency),
        "rejection_reason": rejection_note(declaration, events),
        "events": events,
    }


def rejection_note(declaration: Declaration, events: list[dict]) -> str:
    """Why customs refused, in the reader's language (the rejecting event's message)."""
    if declaration.status != "rejected":
        return declaration.rejection_reason
    return next((e["note"] for e in reversed(events) if e["status"] == "rejected" and e["note"]), declaration.rejection_reason)


def declarations(user, *, status: str | None = None, channel: str | None = None, kind: str | None = None,
                 date_from: Date | None = None, date_to: Date | None = None) -> QuerySet:
    """The declarations ``user`` may see, newest first. Uses index customs_decl_status_idx."""
    qs = visible(user, Declaration.objects.all())
    if status:
        qs = qs.filter(status=status)
    if channel:
        qs = qs.filter(channel=channel)
    if kind:
        qs = qs.filter(kind=kind)
    if date_from:
        qs = qs.filter(created_at__date__gte=date_from)
    if date_to:
        qs = qs.filter(created_at__date__lte=date_to)
    return qs.order_by("-created_at", "-id")


def with_details(qs: QuerySet) -> QuerySet:
    return qs.prefetch_related(
        Prefetch("lines", queryset=DeclarationLine.objects.order_by("position")),
        Prefetch("documents", queryset=DeclarationDocument.objects.select_related("uploaded_by").order_by("uploaded_at", "id")),
    )


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # status, document
    status: str
    from_status: str
    actor: str
    note: str


def timeline(declaration: Declaration) -> list[TimelineEntry]:
    """Status changes and document uploads, oldest first."""
    entries = [TimelineEntry(e.at, "status", e.to_state, e.from_state, e.actor_label, note(e.reason, e.payload))
               for e in history(declaration)]
    entries += [TimelineEntry(doc.uploaded_at, "document", "", "", doc.uploaded_by.get_username() if doc.uploaded_by else "system",
                              f"{doc.get_kind_display()}: {doc.original_name}") for doc in declaration.documents.all()]
    return sorted(entries, key=lambda e: e.at)


def status_counts(user) -> dict[str, int]:
    from django.db.models import Count

    rows = visible(user, Declaration.objects.all()).values("status").annotate(n=Count("id"))
    return {row["status"]: row["n"] for row in rows}


def hs_code_known(code: str) -> bool:
    """Whether a rate can be found for ``code``: its HS-6 heading is in the reference list, or staff
    entered a tariff line for the code (or its heading). The catalogue refuses other codes."""
    from .models import HsCode, TariffLine

    return (HsCode.objects.filter(code=code[:6]).exists()
            or TariffLine.objects.filter(hs_code__in={code, code[:6]}).exists())


def hs_code_search(q: str, *, language: str = "en", limit: int = 12) -> list[tuple[str, str]]:
    """HS-6 codes of the reference list matching ``q`` (the start of a code, or words of its
    description in English or Russian), as (code, description in the reader's language: Russian for
    ru, kk and uz readers, else English). One query."""
    from django.db.models import Q

    from .models import HsCode

    q = (q or "").replace("\x00", "").strip()  # PostgreSQL text holds no NUL: it could match nothing anyway
    if len(q) < 2:
        return []
    digits = "".join(ch for ch in q if ch.isdigit())
    if digits and len(digits) == len(q.replace(" ", "").replace(".", "")):
        qs = HsCode.objects.filter(code__startswith=digits[:6])
    else:
        match = Q()
        for word in q.split()[:4]:
            match &= Q(description_en__icontains=word) | Q(description_ru__icontains=word)
        qs = HsCode.objects.filter(match)
    russian = language.split("-")[0] in ("ru", "kk", "uz")
    rows = qs.order_by("code").values_list("code", "description_en", "description_ru")[:limit]
    return [(code, (ru if russian and ru else en)) for code, en, ru in rows]
