"""customs services: declarations."""

from __future__ import annotations

import logging
import re
from datetime import date as Date

from celery import current_app
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core import sql
from core.access import SYSTEM_ACTOR
from core.errors import DomainError, ErrorCode
from core.money import Money
from core.states import transition
from core.tasks import enqueue
from core.texts import Text, stored, text

from .. import rules, validation
from ..interface import DeclarationEvent, DeclarationInfo, DeclarationLineInput, ParcelInput
from ..models import Declaration, DeclarationLine
from ..rules import fx_line
from ..selectors import info
from ..states import ACTION_LABELS, BROKER_ACTIONS
from ..states import DeclarationStatus as S
from .quotes import _check_lines, _evaluate, _Line, allowances_read

log = logging.getLogger(__name__)

CHANNELS = ("courier", "post", "b2b", "domestic")


# --- declarations -------------------------------------------------------------------------------

_TASK_NAME = re.compile(r"^[a-z_]+\.[a-z_]+$")


def _payer(payer) -> tuple[str, int | None]:
    if payer is None:
        return "", None
    if isinstance(payer, tuple | list) and len(payer) == 2:
        kind, pk = payer
    else:
        kind = getattr(payer, "kind", None)
        pk = getattr(payer, "id", None) or getattr(payer, "pk", None)
        if kind is None:
            kind, pk = ("company", payer.company_id) if getattr(payer, "company_id", None) else ("user", getattr(payer, "user_id", None))
    kind = getattr(kind, "value", kind)
    if kind not in ("company", "user") or not isinstance(pk, int):
        raise DomainError(ErrorCode.VALIDATION, _("The payer is a company or a user."), {"payer": [_("A company or a user.")]})
    return kind, pk


def _assessment(declaration: Declaration, lines: list[_Line], on: Date) -> dict:
    # The rule tables read from the process's memo (customs.rules.data.cached), as a quote reads
    # them: one query for the stamp, none inside a caller's block (a batch assesses many at once).
    with rules.data.cached():
        return _assess_lines(declaration, lines, on)


def _assess_lines(declaration: Declaration, lines: list[_Line], on: Date) -> dict:
    # A parcel is assessed under the regime of the buyer's quote (CBEC 1210 from the Lanzhou bond...);
    # the buyer's allowance counts every other order, not this one (booked when it was paid).
    regime = {"import": "customs_warehouse", "release_from_bond": "release_from_bond"}.get(declaration.kind) or declaration.regime or None
    currency = lines[0].value.currency
    freight = Money(declaration.freight_minor, currency)
    ctx, outcome = _evaluate(regime=regime, origin=lines[0].origin_country, destination=declaration.importer_country,
                             channel="courier", lines=lines, shipping=freight, insurance=Money.zero(currency),
                             on=on, buyer_id=declaration.buyer_id, source_warehouse=None, own_reference=declaration.reference)
    return {
        "regime": outcome.regime, "currency": ctx.currency, "customs_value_minor": outcome.customs_value.minor,
        "duty_minor": outcome.total("duty", "parcel_payment").minor, "vat_minor": outcome.total("vat").minor,
        "excise_minor": outcome.total("excise").minor, "fees_minor": outcome.total("fee").minor,
        "breakdown": [item.to_stored() for item in outcome.items],
        "warnings": [stored(w) for w in ctx.warnings] + [stored(fx_line(r)) for r in ctx.fx],
    }


def _stored_lines(declaration: Declaration) -> list[_Line]:
    return [_Line(line.hs_code, line.description, line.quantity, Money(line.value_minor, line.currency), line.weight_kg,
                  line.origin_country) for line in declaration.lines.all()]


def declaration_create(*, kind: str, reference: str, importer_country: str, lines: list[DeclarationLineInput],
                       declared_weight_kg, recorded_weight_kg=None, payer=None, callback_task: str | None = None,
                       actor, buyer_id: int | None = None, date: Date | None = None,
                       parcel: ParcelInput | None = None) -> DeclarationInfo:
    """A draft declaration with its lines and the duties the rules engine computes for them.

    A buyer's parcel (``kind="parcel"``) comes with ``parcel``: the quote's regime, the duties the
    buyer prepaid into escrow under ``reference``, and the recipient; customs takes its duties from
    that escrow on release. Declared once per reference: the same call again returns the existing
    declaration.
    """
    reference = _checked_reference(kind, reference)
    existing = Declaration.objects.filter(reference=reference).first()
    if existing is not None:
        return _existing(existing, kind)
    declaration, rows = _draft(kind=kind, reference=reference, importer_country=importer_country, lines=lines,
                               declared_weight_kg=declared_weight_kg, recorded_weight_kg=recorded_weight_kg, payer=payer,
                               callback_task=callback_task, actor=actor, buyer_id=buyer_id, date=date, parcel=parcel)
    try:
        with transaction.atomic():
            declaration.save(force_insert=True)
            for row in rows:
                row.declaration = declaration
            DeclarationLine.objects.bulk_create(rows)
    except IntegrityError:
        # Two creates of one reference at once: the first wins, the second answers with it.
        existing = Declaration.objects.filter(reference=reference).first()
        if existing is None:
            raise
        return info(existing)
    return info(declaration)


def _checked_reference(kind: str, reference: str) -> str:
    if kind not in Declaration.Kind.values:
        raise DomainError(ErrorCode.VALIDATION, _("Unknown kind %(kind)s.") % {"kind": repr(kind)},
                          {"kind": [_("One of %(choices)s.") % {"choices": ", ".join(Declaration.Kind.values)}]})
    reference = (reference or "").strip()
    if not reference or len(reference) > 100:
        raise DomainError(ErrorCode.VALIDATION, _("A reference of 1 to 100 characters is needed."),
                          {"reference": [_("1 to 100 characters.")]})
    return reference


def _existing(existing: Declaration, kind: str) -> DeclarationInfo:
    if existing.kind != kind:
        raise DomainError(ErrorCode.CONFLICT, _("Reference %(reference)s is already declared as %(kind)s.")
                          % {"reference": existing.reference, "kind": existing.kind}, {"reference": [_("Already declared.")]})
    return info(existing)


def _draft(*, kind: str, reference: str, importer_country: str, lines: list[DeclarationLineInput], declared_weight_kg,
           recorded_weight_kg=None, payer=None, callback_task: str | None = None, actor, buyer_id: int | None = None,
           date: Date | None = None, parcel: ParcelInput | None = None) -> tuple[Declaration, list[DeclarationLine]]:
    """The declaration ``declaration_create`` writes, checked and assessed, and its lines: not saved."""
    country = validation.country(importer_country, "importer_country")
    if country not in (*rules.CENTRAL_ASIA, "CN"):
        raise DomainError(ErrorCode.REGIME_NOT_SUPPORTED, _("No customs rules for %(country)s.") % {"country": country},
                          {"importer_country": [_("Not supported.")]})
    with rules.data.cached():
        checked = _check_lines(lines, country, value_attr="value")
    declared = validation.weight(declared_weight_kg, "declared_weight_kg")
    recorded = validation.weight(recorded_weight_kg, "recorded_weight_kg") if recorded_weight_kg not in (None, "") else None
    if callback_task and not _TASK_NAME.match(callback_task):
        raise DomainError(ErrorCode.VALIDATION, _("callback_task is a Celery task name such as app.verb."),
                          {"callback_task": [_("Not a task name.")]})
    payer_kind, payer_id = _payer(payer)
    extra = {}
    if kind == Declaration.Kind.PARCEL:
        extra = _parcel_fields(parcel, country)
        payer_kind, payer_id = "escrow", None
    on = date or timezone.localdate()
    draft = Declaration(kind=kind, reference=reference, importer_country=country, buyer_id=buyer_id,
                        regime=extra.get("regime", ""), freight_minor=extra.get("freight_minor", 0))
    assessment = _assessment(draft, checked, on)
    declaration = Declaration(
        kind=kind, reference=reference, importer_country=country, declared_weight_kg=declared,
        recorded_weight_kg=recorded, payer_kind=payer_kind, payer_id=payer_id, buyer_id=buyer_id,
        callback_task=callback_task or "", created_by=None if actor is SYSTEM_ACTOR else actor,
        **{**assessment, **{k: v for k, v in extra.items() if k != "regime"}},
    )
    rows = [DeclarationLine(position=i + 1, hs_code=line.hs_code, description=line.description, quantity=line.quantity,
                            weight_kg=line.weight_kg, value_minor=line.value.minor, currency=line.value.currency,
                            origin_country=line.origin_country)
            for i, line in enumerate(checked)]
    return declaration, rows


def declarations_create(*, filings: list[dict], actor) -> dict[str, DeclarationInfo | DomainError]:
    """Many :func:`declaration_create` at once (a batch of parcels): ``filings`` are its keyword
    arguments each, with ``documents``, a list of ``(kind, file)`` attached to a declaration filed
    now (as :func:`~customs.services.documents.document_upload` attaches one). The rule tables are
    read once for the batch, the existing declarations in one query, and the new ones written in
    one transaction: one INSERT for the declarations, one for their lines, one for the documents.
    Returns ``{reference: DeclarationInfo}``, or the DomainError refusing that filing (the others
    are filed all the same). Declared once per reference, as one by one."""
    from .documents import document_row

    results: dict[str, DeclarationInfo | DomainError] = {}
    checked: list[tuple[dict, str]] = []
    for filing in filings:
        try:
            checked.append((filing, _checked_reference(filing.get("kind", ""), filing.get("reference", ""))))
        except DomainError as exc:
            results[str(filing.get("reference", ""))] = exc
    existing = {d.reference: d for d in Declaration.objects.filter(reference__in=[ref for _f, ref in checked])}
    drafts: list[tuple[Declaration, list[DeclarationLine], list]] = []
    with rules.data.cached(), allowances_read(filing.get("buyer_id") for filing, _ref in checked):
        for filing, reference in checked:
            args = {k: v for k, v in filing.items() if k != "documents"}
            try:
                if reference in existing:
                    results[reference] = _existing(existing[reference], args["kind"])
                    continue
                declaration, rows = _draft(**{**args, "reference": reference, "actor": actor})
                documents = [document_row(declaration, kind, file, actor) for kind, file in filing.get("documents", ())]
            except DomainError as exc:
                results[reference] = exc
                continue
            drafts.append((declaration, rows, documents))
    if not drafts:
        return results
    try:
        with transaction.atomic():
            # One INSERT each, every column one array in binary (core.sql.insert_rows: the
            # assessments' JSON is neither rendered nor escaped in Python); what bulk_create wrote.
            sql.insert_rows([declaration for declaration, _rows, _docs in drafts])
            for declaration, rows, documents in drafts:
                for row in [*rows, *documents]:
                    row.declaration = declaration
            sql.insert_rows([row for _d, rows, _docs in drafts for row in rows])
            sql.insert_rows([doc for _d, _rows, docs in drafts for doc in docs])
    except IntegrityError:
        # A reference filed meanwhile by another caller: one by one, each answering with the first.
        for declaration, _rows, _docs in drafts:
            results.pop(declaration.reference, None)
        rest = [filing for filing, reference in checked if reference not in results]
        for filing in rest:
            args = {k: v for k, v in filing.items() if k != "documents"}
            try:
                results[filing["reference"].strip()] = created = declaration_create(**args, actor=actor)
                for kind, file in filing.get("documents", ()) if created.status == S.DRAFT else ():
                    from .documents import document_upload

                    file.seek(0)
                    document_upload(declaration_id=created.id, kind=kind, file=file, actor=actor)
            except DomainError as exc:
                results[filing["reference"].strip()] = exc
        return results
    for declaration, _rows, _docs in drafts:
        results[declaration.reference] = info(declaration)
    return results


def _parcel_fields(parcel: ParcelInput | None, country: str) -> dict:
    from core import crypto, identity

    if parcel is None:
        raise DomainError(ErrorCode.VALIDATION, _("A parcel declaration needs the regime, the prepaid duties and the recipient."),
                          {"parcel": [_("Required for a parcel.")]})
    prepaid = parcel.prepaid
    if not isinstance(prepaid, Money) or prepaid.minor < 0:
        raise DomainError(ErrorCode.INVALID_AMOUNT, _("The prepaid duties are zero or more."), {"parcel.prepaid": [_("Zero or more.")]})
    id_number = parcel.recipient_id or ""
    if identity.needs_id(country):
        id_number = identity.validate_id(country, id_number)
    freight = parcel.freight.minor if isinstance(parcel.freight, Money) else 0
    return {
        "regime": parcel.regime[:40], "prepaid_minor": prepaid.minor, "freight_minor": freight, "recipient_name": (parcel.recipient_name or "")[:150],
        "recipient_id_encrypted": crypto.encrypt(id_number) if id_number else "",
        "recipient_id_masked": identity.mask(id_number) if id_number else "",
    }


def _notify(declaration: Declaration, status: str) -> None:
    if declaration.callback_task:
        name = declaration.callback_task
        event = DeclarationEvent(declaration_id=declaration.pk, reference=declaration.reference, status=status)
        transaction.on_commit(lambda: current_app.send_task(name, args=event.task_args()))


def _move(declaration: Declaration, to: str, *, actor, reason: Text | str = "", payload: dict | None = None,
          extra: dict | None = None) -> None:
    # A gateway's note is kept in English in the columns and as a message in the event, shown later in
    # the reader's language (core.texts).
    if isinstance(reason, Text):
        payload = {**(payload or {}), "reason_text": reason.to_json()}
    extra = {name: value.english() if isinstance(value, Text) else value for name, value in (extra or {}).items()}
    reason = reason.english() if isinstance(reason, Text) else reason
    transition(declaration, to, actor=actor, reason=reason, payload=payload, extra_updates=extra or None)
    _notify(declaration, to)


def _load(declaration_id: int) -> Declaration:
    declaration = Declaration.objects.filter(pk=declaration_id).first()
    if declaration is None:
        raise DomainError(ErrorCode.NOT_FOUND, _("Declaration not found."))
    return declaration


def _tunable(name: str):
    return settings.CUSTOMS_SIMULATOR[name]


def declaration_submit(*, declaration_id: int, actor) -> DeclarationInfo:
    """Send a draft to the customs authority (through the gateway, on Celery)."""
    from .. import tasks

    with transaction.atomic():
        declaration = _load(declaration_id)
        _move(declaration, S.SUBMITTED, actor=actor)
        enqueue(tasks.gateway_submit, declaration.pk, countdown=_tunable("register_delay"))
    return info(declaration)


def gateway_register(*, declaration_id: int) -> bool:
    """The gateway step after submission: the authority registers the declaration (asked with no
    transaction open, :mod:`customs.services.gateway_steps`). Safe to repeat."""
    from .gateway_steps import gateway_register_batch

    return bool(gateway_register_batch(declaration_ids=[declaration_id]))


def gateway_poll(*, declaration_id: int) -> bool:
    """Ask the gateway what happened: the risk channel of a registered declaration, or the release
    of a paid one (asked with no transaction open, :mod:`customs.services.gateway_steps`). Safe to
    repeat: a declaration no longer waiting on the gateway is left alone."""
    from .gateway_steps import gateway_poll_batch

    return bool(gateway_poll_batch(declaration_ids=[declaration_id]))


def _assess(declaration: Declaration, *, actor, reason: str = "") -> None:
    """Compute the duties with the rules in force on the registration date and move to assessed;
    a declaration with nothing to pay goes on to paid, one with a payer has its payment booked."""
    from .. import tasks

    on = declaration.registered_on or timezone.localdate()
    assessment = _assessment(declaration, _stored_lines(declaration), on)
    _move(declaration, S.ASSESSED, actor=actor, reason=reason,
          payload={"duties": Money(sum(assessment[k] for k in ("duty_minor", "vat_minor", "excise_minor", "fees_minor")),
                                   assessment["currency"]).to_api()},
          extra=assessment)
    declaration.refresh_from_db()
    if declaration.total_minor == 0 and not declaration.prepaid_minor:
        _move(declaration, S.PAID, actor=SYSTEM_ACTOR, reason=text(gettext_noop("Nothing to pay")))
        enqueue(tasks.gateway_poll, declaration.pk, countdown=_tunable("release_delay"))
    elif declaration.payer_kind:
        enqueue(tasks.declaration_pay, declaration.pk)


def book_duty_payment(declaration: Declaration) -> str:
    """Book the duty through the payments app; returns its reference.

    The one place customs calls payments (``payments.services.charge``).
    """
    from payments import services as payments_services
    from payments.interface import Owner

    if declaration.payer_kind == "escrow":
        result = payments_services.escrow_pay_duty(
            reference=declaration.reference, assessed=Money(declaration.total_minor, declaration.currency),
            prepaid=Money(declaration.prepaid_minor, declaration.currency), actor=SYSTEM_ACTOR)
        return f"txn:{result.id}" if result is not None else ""
    charge = payments_services.charge
    if declaration.payer_kind == "company":
        owner = Owner.company(declaration.payer_id)
    else:
        owner = Owner.user(get_user_model().objects.get(pk=declaration.payer_id))
    reference = f"declaration:{declaration.pk}"
    result = charge(payer=owner, amount=Money(declaration.total_minor, declaration.currency), kind="duty", reference=reference,
                    idempotency_key=f"customs-duty-{declaration.pk}", actor=SYSTEM_ACTOR)
    return f"txn:{result.id}"


def declaration_pay(*, declaration_id: int) -> bool:
    """Charge the payer for an assessed declaration (:func:`gateway_steps.declaration_pay_batch`).
    Idempotent: the charge carries a fixed idempotency key, and a declaration already paid is left
    alone."""
    from .gateway_steps import declaration_pay_batch

    return bool(declaration_pay_batch(declaration_ids=[declaration_id]))


def declaration_act(*, declaration_id: int, action: str, actor, reason: str = "") -> DeclarationInfo:
    """A broker's action on a declaration (request documents, send to inspection, assess, mark
    inspected, mark paid, release, reject with a reason)."""
    from .. import tasks

    if action not in BROKER_ACTIONS:
        raise DomainError(ErrorCode.VALIDATION, _("Unknown action %(action)s.") % {"action": repr(action)},
                          {"action": [_("One of %(choices)s.") % {"choices": ", ".join(BROKER_ACTIONS)}]})
    target, needs_reason = BROKER_ACTIONS[action]
    reason = (reason or "").strip()
    if needs_reason and not reason:
        raise DomainError(ErrorCode.VALIDATION, _("Give the reason for the rejection."), {"reason": [_("A reason is required.")]})
    with transaction.atomic():
        declaration = Declaration.objects.select_for_update().filter(pk=declaration_id).first()
        if declaration is None:
            raise DomainError(ErrorCode.NOT_FOUND, _("Declaration not found."))
        found = declaration.machine.find(declaration.status, target)
        if found is not None and found.name != action:
            status = declaration.get_status_display()
            raise DomainError(ErrorCode.ILLEGAL_TRANSITION,
                              _("%(action)s does not apply to a declaration in %(status)s.")
                              % {"action": ACTION_LABELS.get(action, action), "status": status},
                              {"action": [_("Not available in %(status)s.") % {"status": status}]})
        if target == S.ASSESSED:
            if not declaration.machine.allows(declaration.status, target, actor):
                transition(declaration, target, actor=actor)  # raises the precise error
            _assess(declaration, actor=actor, reason=reason)
        elif target == S.REJECTED:
            _move(declaration, target, actor=actor, reason=reason, extra={"rejection_reason": reason})
        elif target in (S.YELLOW, S.RED):
            _move(declaration, target, actor=actor, reason=reason, extra={"channel": target})
        else:
            _move(declaration, target, actor=actor, reason=reason)
            if target == S.PAID:
                enqueue(tasks.gateway_poll, declaration.pk, countdown=_tunable("release_delay"))
    return info(declaration)
