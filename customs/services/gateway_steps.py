"""The gateway's steps on many declarations at once: registration, the risk channel or the release,
the duties paid out of escrow.

Each step follows the pattern of the payouts: the intent is the declaration's state, recorded
before (``submitted``: to be registered; ``registered``: waiting for a channel; ``paid``: waiting
for the release); the customs authority is asked with **no transaction open and no row locked**
(its answer may take seconds, and a lock held across it would stall every worker behind it); its
answers are recorded in one short transaction, set-based (:func:`core.states.transition_batch`),
which skips the rows another copy of the task moved meanwhile. The authority answers the same
declaration alike (the simulator is deterministic; a real adapter sends its idempotency key), so a
task delivered twice, or resumed by :func:`customs.tasks.resume_stalled` after a crash between the
call and the record, asks again and records nothing twice.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext_noop

from core.access import SYSTEM_ACTOR
from core.money import Money
from core.states import transition_batch
from core.tasks import enqueue, send_callbacks
from core.texts import text

from ..models import Declaration, DeclarationDocument
from ..rules import data as rule_data
from ..states import DeclarationStatus as S

log = logging.getLogger(__name__)

# The system's own notes, kept as messages (core.texts) like the gateway's: read in the reader's language.
GREEN_REASON = gettext_noop("Green channel: assessed automatically")
NOTHING_TO_PAY = gettext_noop("Nothing to pay")


def _reason(note) -> tuple[str, dict]:
    """A gateway's note as the event stores it: the English text in ``reason`` and, when the note
    is a translatable message, the message in the payload (as ``_move`` does for one)."""
    english = getattr(note, "english", None)
    if callable(english):
        return english(), {"reason_text": note.to_json()}
    return str(note or ""), {}


def _pending(declaration_ids, statuses) -> list[Declaration]:
    """The declarations of ``declaration_ids`` still in ``statuses``, read without a lock (three
    queries: the rows, their lines, the kinds of their documents). Not their breakdown and warnings
    (JSON decoded per row): no gateway step reads them, and a green assessment writes new ones."""
    return list(Declaration.objects.filter(pk__in=sorted(set(declaration_ids)), status__in=list(statuses))
                .defer("breakdown", "warnings")
                .prefetch_related("lines", Prefetch("documents", DeclarationDocument.objects.only("id", "declaration_id", "kind")))
                .order_by("pk"))


def _ask(declarations: list[Declaration], question: str) -> dict[int, object]:
    """The authority's answers, ``{pk: answer}``, one batch call per gateway. Never inside a
    transaction of ours: callers ask before they open the one that records the answers."""
    by_gateway: dict[str, list[Declaration]] = {}
    for declaration in declarations:
        by_gateway.setdefault(declaration.gateway, []).append(declaration)
    answers: dict[int, object] = {}
    with rule_data.cached():  # the built-in simulator reads FX rates per declaration: once per batch
        _ask_each(by_gateway, question, answers)
    return answers


def _ask_each(by_gateway: dict, question: str, answers: dict) -> None:
    from .. import gateways

    for name, group in sorted(by_gateway.items()):
        gateway = gateways.get(name)
        snapshots = [gateways.snapshot(d) for d in group]
        results = gateways.submit_batch(gateway, snapshots) if question == "submit" else gateways.poll_batch(gateway, snapshots)
        answers.update(zip([d.pk for d in group], results, strict=True))


def _notify_all(declarations: dict[int, Declaration], moved, status: str) -> None:
    """Tell each declaration's caller of its move, after commit: one callback per declaration, sent
    as one message per caller's task when that task has a batch form (core.tasks.send_callbacks)."""
    from ..interface import DeclarationEvent

    by_task: dict[str, list] = {}
    for pk in moved:
        declaration = declarations[pk]
        if declaration.callback_task:
            event = DeclarationEvent(declaration_id=pk, reference=declaration.reference, status=str(status))
            by_task.setdefault(declaration.callback_task, []).append((event.task_args(), {}))
    for name, calls in sorted(by_task.items()):
        send_callbacks(name, calls)


def declaration_submit_batch(*, declaration_ids, actor) -> list[int]:
    """Send many drafts to the authority: moved to ``submitted`` in one statement set, then one
    registration task for all of them. Drafts no longer drafts are skipped."""
    from .. import tasks

    with transaction.atomic():
        drafts = {d.pk: d for d in Declaration.objects.filter(pk__in=sorted(set(declaration_ids)), status=S.DRAFT)}
        moved = transition_batch(Declaration, list(drafts), S.DRAFT, S.SUBMITTED, actor=actor,
                                 extra_updates={"updated_at": timezone.now()})
        _notify_all(drafts, moved, S.SUBMITTED)
        if moved:
            enqueue(tasks.gateway_submit_batch, moved, countdown=_tunable("register_delay"))
    return moved


def _tunable(name: str):
    from .declarations import _tunable as tunable

    return tunable(name)


def gateway_register_batch(*, declaration_ids) -> list[int]:
    """The authority registers the submitted declarations: asked outside any transaction, the
    registration numbers recorded in one short one; then one task polls them all. Returns the
    declarations registered now."""
    from .. import tasks

    pending = _pending(declaration_ids, [S.SUBMITTED])
    if not pending:
        return []
    answers = _ask(pending, "submit")
    today = timezone.localdate()
    with transaction.atomic():
        moved = transition_batch(
            Declaration, list(answers), S.SUBMITTED, S.REGISTERED, actor=SYSTEM_ACTOR,
            extra_updates={"registered_on": today, "updated_at": timezone.now()},
            updates={pk: {"registration_number": r.registration_number} for pk, r in answers.items()},
            events={pk: {"payload": {"registration_number": r.registration_number}} for pk, r in answers.items()})
        _notify_all({d.pk: d for d in pending}, moved, S.REGISTERED)
        if moved:
            enqueue(tasks.gateway_poll_batch, moved, countdown=_tunable("channel_delay"))
    return moved


def gateway_poll_batch(*, declaration_ids) -> list[int]:
    """Ask the authority about registered declarations (their channel, or a rejection) and paid
    ones (their release): asked outside any transaction, the answers recorded in one short one, a
    set-based move per answer. Green ones are assessed at once; those still pending are polled
    again later. Returns the declarations that were waiting on the authority."""
    from .. import tasks

    pending = _pending(declaration_ids, [S.REGISTERED, S.PAID])
    if not pending:
        return []
    answers = _ask(pending, "poll")
    by_pk = {d.pk: d for d in pending}
    groups: dict[tuple[str, str], list[int]] = {}
    again: list[int] = []
    for pk, result in answers.items():
        source = by_pk[pk].status
        if source == S.REGISTERED and result.status in (S.GREEN, S.YELLOW, S.RED, S.REJECTED):
            groups.setdefault((source, result.status), []).append(pk)
        elif source == S.PAID and result.status == S.RELEASED:
            groups.setdefault((source, S.RELEASED), []).append(pk)
        elif result.status == "pending":
            again.append(pk)
    now = timezone.now()
    with transaction.atomic():
        green: list[int] = []
        for (source, target), pks in sorted(groups.items()):
            events, updates = {}, {}
            for pk in pks:
                reason, extra = _reason(answers[pk].reason)
                payload = {**extra} if target == S.RELEASED else {"rules": list(answers[pk].rules), **extra}
                events[pk] = {"reason": reason, "payload": payload}
                if target == S.REJECTED:
                    updates[pk] = {"rejection_reason": reason}
            extra_updates = {"updated_at": now}
            if target in (S.GREEN, S.YELLOW, S.RED):
                extra_updates["channel"] = target
            moved = transition_batch(Declaration, pks, source, target, actor=SYSTEM_ACTOR,
                                     extra_updates=extra_updates, updates=updates, events=events)
            _notify_all(by_pk, moved, target)
            if target == S.GREEN:
                green += moved
        if green:
            _assess_batch(green, actor=SYSTEM_ACTOR, reason=text(GREEN_REASON), loaded=by_pk)
        if again:
            enqueue(tasks.gateway_poll_batch, again, countdown=_tunable("channel_delay"))
    return sorted(by_pk)


def _assess_batch(declaration_ids: list[int], *, actor, reason, loaded: dict[int, Declaration] | None = None) -> None:
    """Assess green declarations (the rules in force on their registration date, per declaration),
    move them to ``assessed`` in one statement set, then on: nothing to pay goes to ``paid`` at
    once; a payer's duties are booked by one task for all. ``loaded``: the declarations as the
    caller read them with their lines (what the assessment reads does not change with a channel)."""
    from .. import tasks
    from .declarations import _assessment, _stored_lines
    from .quotes import allowances_read

    loaded = loaded or {}
    declarations = {pk: loaded[pk] for pk in declaration_ids if pk in loaded}
    missing = [pk for pk in declaration_ids if pk not in declarations]
    if missing:
        declarations.update({d.pk: d for d in Declaration.objects.filter(pk__in=missing).prefetch_related("lines")})
    # The rule tables and the buyers' allowances read once for the batch (customs.rules.data, quotes).
    with rule_data.cached(), allowances_read(d.buyer_id for d in declarations.values()):
        assessments = {pk: _assessment(d, _stored_lines(d), d.registered_on or timezone.localdate())
                       for pk, d in declarations.items()}
    duties = {pk: sum(a[k] for k in ("duty_minor", "vat_minor", "excise_minor", "fees_minor")) for pk, a in assessments.items()}
    english, note = _reason(reason)
    moved = transition_batch(
        Declaration, list(assessments), S.GREEN, S.ASSESSED, actor=actor, reason=english,
        extra_updates={"updated_at": timezone.now()}, updates=assessments,
        events={pk: {"payload": {"duties": Money(duties[pk], a["currency"]).to_api(), **note}}
                for pk, a in assessments.items()})
    _notify_all(declarations, moved, S.ASSESSED)
    free = [pk for pk in moved if duties[pk] == 0 and not declarations[pk].prepaid_minor]
    payers = [pk for pk in moved if pk not in free and declarations[pk].payer_kind]
    if free:
        english, note = _reason(text(NOTHING_TO_PAY))
        paid = transition_batch(Declaration, free, S.ASSESSED, S.PAID, actor=SYSTEM_ACTOR, reason=english,
                                events={pk: {"payload": note} for pk in free})
        _notify_all(declarations, paid, S.PAID)
        enqueue(tasks.gateway_poll_batch, paid, countdown=_tunable("release_delay"))
    if payers:
        enqueue(tasks.declarations_pay, payers)


def declaration_pay_batch(*, declaration_ids) -> list[int]:
    """Book the duties of assessed declarations and move them to ``paid``, in one transaction: the
    parcels' duties out of escrow in one ledger transaction per currency
    (:func:`payments.services.escrow_pay_duty_batch`), other payers charged one by one. Locks only
    our own rows (no outside call). Safe twice: a declaration already paid is skipped."""
    from payments import services as payments_services
    from payments.interface import DutyDue

    from .. import tasks
    from .declarations import book_duty_payment

    with transaction.atomic():
        declarations = {d.pk: d for d in Declaration.objects.select_for_update()
                        .filter(pk__in=sorted(set(declaration_ids)), status=S.ASSESSED).exclude(payer_kind="").order_by("pk")}
        if not declarations:
            return []
        escrow = [d for d in declarations.values() if d.payer_kind == "escrow"]
        booked = payments_services.escrow_pay_duty_batch(dues=[
            DutyDue(d.reference, Money(d.total_minor, d.currency), Money(d.prepaid_minor, d.currency)) for d in escrow
        ], actor=SYSTEM_ACTOR) if escrow else {}
        references: dict[int, str] = {}
        for d in escrow:
            if d.reference in booked:
                references[d.pk] = f"txn:{booked[d.reference]}" if booked[d.reference] is not None else ""
            else:
                log.warning("duties of declaration %s refused by escrow; it stays assessed", d.pk)
        for d in declarations.values():
            if d.payer_kind != "escrow":
                references[d.pk] = book_duty_payment(d)
        moved = transition_batch(
            Declaration, list(references), S.ASSESSED, S.PAID, actor=SYSTEM_ACTOR,
            extra_updates={"updated_at": timezone.now()},
            updates={pk: {"payment_reference": ref} for pk, ref in references.items()},
            events={pk: {"payload": {"payment": ref}} for pk, ref in references.items()})
        _notify_all(declarations, moved, S.PAID)
        if moved:
            enqueue(tasks.gateway_poll_batch, moved, countdown=_tunable("release_delay"))
    return moved
