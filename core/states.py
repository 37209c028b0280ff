"""State machines, declared once, changed in one place.

A machine lists its states and transitions, and which roles (or ``system``) may fire each.
:func:`transition` is the only way to change a status: it locks the row, checks the declaration,
updates the status conditionally and stores a :class:`~core.models.TransitionEvent` in the same
database transaction.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import sql
from .access import SYSTEM_ACTOR, roles_of
from .errors import DomainError, ErrorCode


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str
    roles: frozenset[str]
    name: str = ""
    # Other columns of the row that must hold one of these values for the move to exist (an order's
    # road: the same status leads elsewhere on another road).
    when: tuple[tuple[str, frozenset[str]], ...] = ()

    def applies(self, row) -> bool:
        """Whether the guard holds for ``row`` (a model instance or a dict of its columns)."""
        for field, values in self.when:
            value = row.get(field) if isinstance(row, dict) else getattr(row, field)
            if value not in values:
                return False
        return True


def move(sources: str | Iterable[str], target: str, *roles: str, name: str = "",
         when: dict[str, Iterable[str]] | None = None) -> Transition:
    srcs = frozenset([sources] if isinstance(sources, str) else sources)
    guard = tuple(sorted((field, frozenset([v] if isinstance(v, str) else v)) for field, v in (when or {}).items()))
    return Transition(srcs, target, frozenset(roles), name or target, guard)


@dataclass
class StateMachine:
    name: str
    states: type[models.TextChoices]
    transitions: list[Transition]
    field: str = "status"
    _index: dict = dataclasses.field(default_factory=dict, init=False, repr=False)

    def __post_init__(self):
        self.guard_fields = sorted({field for t in self.transitions for field, _values in t.when})
        valid = set(self.states.values)
        for t in self.transitions:
            unknown = (t.sources | {t.target}) - valid
            if unknown:
                raise ValueError(f"{self.name}: unknown states {sorted(unknown)}")
            for src in t.sources:
                if (src, t.target) in self._index:
                    raise ValueError(f"{self.name}: {src}→{t.target} declared twice")
                self._index[(src, t.target)] = t

    def find(self, source: str, target: str, row=None) -> Transition | None:
        """The declared move, if any; with ``row``, only when its guard holds for that row."""
        t = self._index.get((source, target))
        if t is not None and row is not None and not t.applies(row):
            return None
        return t

    def targets(self, source: str, actor=None, row=None) -> list[str]:
        """The states ``actor`` may move to from ``source`` (all of them when actor is None),
        for ``row`` when given (guards)."""
        roles = roles_of(actor) if actor is not None else None
        return [
            t.target
            for (src, _), t in self._index.items()
            if src == source and (roles is None or t.roles & roles) and (row is None or t.applies(row))
        ]

    def allows(self, source: str, target: str, actor, row=None) -> bool:
        t = self.find(source, target, row)
        return bool(t and t.roles & roles_of(actor))

    def next_named(self, source: str, name: str, row) -> str | None:
        """The target of the move called ``name`` from ``source`` whose guard holds for ``row``
        (e.g. the parcel pipeline's next ``track`` step on the order's road), if any."""
        found = [t.target for (src, _), t in self._index.items() if src == source and t.name == name and t.applies(row)]
        return found[0] if len(found) == 1 else None


def actor_fields(actor) -> dict:
    """The event columns naming who acted: a user, or the system."""
    if actor is SYSTEM_ACTOR or actor is None:
        return {"actor": None, "actor_label": "system"}
    return {"actor": actor, "actor_label": actor.get_username()}


def check(obj: models.Model, to: str, *, actor, current: str | None = None) -> Transition:
    """Raise the error :func:`transition` would raise for this move, without moving: services
    call it before their side effects (a refund, a release) so that a refused move does nothing.
    ``obj`` holds the current status (and guard columns) unless ``current`` is given."""
    machine: StateMachine = type(obj).machine
    source = current if current is not None else getattr(obj, machine.field)
    return _verify(machine, obj, source, to, actor)


def _verify(machine: StateMachine, row, source: str, to: str, actor) -> Transition:
    t = machine.find(source, to, row)
    if t is None:
        allowed = ", ".join(machine.targets(source, row=row)) or "none"
        raise DomainError(
            ErrorCode.ILLEGAL_TRANSITION,
            _("Cannot move %(machine)s from %(src)s to %(dst)s.") % {"machine": machine.name, "src": source, "dst": to},
            {"status": [_("Allowed from %(src)s: %(allowed)s.") % {"src": source, "allowed": allowed}]},
        )
    if not t.roles & roles_of(actor):
        raise DomainError(ErrorCode.TRANSITION_NOT_PERMITTED,
                          _("You may not move this %(machine)s to %(dst)s.") % {"machine": machine.name, "dst": to})
    return t


def record_creation(obj: models.Model, *, actor, place: str = "", payload: dict | None = None, at=None):
    """The first event of an object born in its initial state (no source state)."""
    event = creation_event(obj, actor=actor, place=place, payload=payload, at=at)
    sql.insert([event])
    return event


def create(obj: models.Model, *, actor, rows=(), place: str = "", payload: dict | None = None, at=None):
    """Write ``obj`` (and ``rows`` of one model that belong to it, their link already set) with the
    first event of its machine, in one statement on PostgreSQL; return the event. What
    ``obj.save()``, ``bulk_create(rows)`` and :func:`record_creation` do, without the round trips."""
    event = creation_event(obj, actor=actor, place=place, payload=payload, at=at)
    sql.insert_with_event(obj, event, rows)
    return event


def creation_event(obj: models.Model, *, actor, place: str = "", payload: dict | None = None, at=None):
    """The first event of ``obj``, not yet written (its ``object_id`` is ``obj``'s, once known)."""
    from .models import TransitionEvent

    machine: StateMachine = type(obj).machine
    return TransitionEvent(
        machine=machine.name, content_type=ContentType.objects.get_for_model(type(obj)), object_id=obj.pk,
        from_state="", to_state=getattr(obj, machine.field), at=at or timezone.now(), place=place,
        payload=payload or {}, **actor_fields(actor),
    )


def transition(obj: models.Model, to: str, *, actor, reason: str = "", payload: dict | None = None,
               place: str = "", extra_updates: dict | None = None, locked: bool = False):
    """Move ``obj`` to ``to`` as ``actor``; return the stored event.

    Raises DomainError ``illegal_transition`` (409) when the declaration has no such move from the
    current state, ``transition_not_permitted`` (403) when the actor's roles may not fire it.
    ``extra_updates`` are other columns written in the same UPDATE (e.g. a timestamp).

    ``locked``: the caller read ``obj`` with ``select_for_update`` in the transaction it is still
    in, so its status and guard columns are the row's: they are checked as read, with no second
    lock and no savepoint (two statements: the conditional UPDATE and the event).
    """
    from .models import TransitionEvent

    machine: StateMachine = type(obj).machine
    model = type(obj)
    if locked:
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("transition(locked=True) needs the caller's transaction and row lock")
        current = getattr(obj, machine.field)
        _verify(machine, obj, current, to, actor)
        updates = {machine.field: to, **(extra_updates or {})}
        event = TransitionEvent(
            machine=machine.name, content_type=ContentType.objects.get_for_model(model), object_id=obj.pk,
            from_state=current, to_state=to, at=timezone.now(), reason=reason, place=place, payload=payload or {},
            **actor_fields(actor),
        )
        # The conditional UPDATE and its event in one statement: no event when the row had moved.
        if not sql.update_with_event(obj, {machine.field: current}, updates, event):
            raise DomainError(ErrorCode.CONFLICT, _("The status changed meanwhile; try again."))
        for name, value in updates.items():
            setattr(obj, name, value)
        return event
    with transaction.atomic():
        row = model.objects.select_for_update().filter(pk=obj.pk).values(machine.field, *machine.guard_fields).first()
        if row is None:
            raise DomainError(ErrorCode.NOT_FOUND, _("%(what)s not found.") % {"what": model._meta.verbose_name})
        current = row[machine.field]
        _verify(machine, row, current, to, actor)
        updates = {machine.field: to, **(extra_updates or {})}
        # Conditional on the state we checked: belt and braces with the row lock.
        changed = model.objects.filter(pk=obj.pk, **{machine.field: current}).update(**updates)
        if changed != 1:  # pragma: no cover - impossible under the lock, kept as a guard
            raise DomainError(ErrorCode.CONFLICT, "The status changed meanwhile; try again.")
        event = TransitionEvent.objects.create(
            machine=machine.name,
            content_type=ContentType.objects.get_for_model(model),
            object_id=obj.pk,
            from_state=current,
            to_state=to,
            at=timezone.now(),
            reason=reason,
            place=place,
            payload=payload or {},
            **actor_fields(actor),
        )
    for name, value in updates.items():
        setattr(obj, name, value)
    return event


def transition_batch(model: type[models.Model], ids: Iterable[int], source: str, to: str, *, actor,
                     reason: str = "", place: str = "", extra_updates: dict | None = None,
                     updates: dict[int, dict] | None = None, events: dict[int, dict] | None = None) -> list[int]:
    """Move many rows from ``source`` to ``to`` in one transaction; return the ids that moved.

    Rows no longer in ``source`` are skipped (a retried batch changes nothing more). Used where
    volume is high (the parcel pipeline, customs' gateway steps, escrow releases): three statements
    whatever the batch size. ``extra_updates`` are columns written with the same value on every
    row; ``updates`` gives columns per row (``{pk: {column: value}}``, one CASE per column in the
    same UPDATE); ``events`` overrides the event of a row (``{pk: {"reason", "place", "payload"}}``).
    """
    from .models import TransitionEvent

    machine: StateMachine = model.machine
    t = machine.find(source, to)
    if t is None:
        raise DomainError(ErrorCode.ILLEGAL_TRANSITION, _("Cannot move %(machine)s from %(src)s to %(dst)s.")
                          % {"machine": machine.name, "src": source, "dst": to})
    if not t.roles & roles_of(actor):
        raise DomainError(ErrorCode.TRANSITION_NOT_PERMITTED,
                          _("You may not move this %(machine)s to %(dst)s.") % {"machine": machine.name, "dst": to})
    guard = {f"{field}__in": sorted(values) for field, values in t.when}
    ids = sorted(set(ids))
    if not ids:
        return []
    updates = updates or {}
    events = events or {}
    # No savepoint of its own: one statement less per batch; a failure fails the caller's transaction.
    with transaction.atomic(savepoint=False):
        locked = list(
            model.objects.select_for_update(skip_locked=True)
            .filter(pk__in=ids, **{machine.field: source}, **guard)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not locked:
            return []
        columns = {machine.field: to, **(extra_updates or {})}
        per_row = sorted({name for pk in locked for name in updates.get(pk, {})})
        if per_row and connection.vendor == "postgresql" and not any(hasattr(v, "resolve_expression") for v in columns.values()):
            _update_each(model, locked, columns, per_row, updates)
        else:
            for name in per_row:
                field = model._meta.get_field(name)
                whens = [models.When(pk=pk, then=models.Value(updates[pk][name], output_field=field))
                         for pk in locked if name in updates.get(pk, {})]
                columns[name] = models.Case(*whens, default=models.F(field.attname), output_field=field)
            model.objects.filter(pk__in=locked).update(**columns)
        now = timezone.now()
        ct = ContentType.objects.get_for_model(model)
        who = actor_fields(actor)
        sql.insert_rows([  # one INSERT, each column one array in binary (core.sql)
            TransitionEvent(machine=machine.name, content_type=ct, object_id=pk, from_state=source, to_state=to,
                            at=now, reason=events.get(pk, {}).get("reason", reason),
                            place=events.get(pk, {}).get("place", place), payload=events.get(pk, {}).get("payload") or {},
                            **who)
            for pk in locked
        ])
    return locked


def _update_each(model: type[models.Model], pks: list[int], columns: dict, per_row: list[str],
                 updates: dict[int, dict]) -> None:
    """One UPDATE of the rows ``pks``: ``columns`` on every row, and each row's own values of the
    ``per_row`` columns from ``updates`` (a row without one keeps its value): :func:`core.sql.update_rows`.
    What the ORM's ``CASE WHEN pk = ...`` per column writes, without compiling one expression
    per row and column (milliseconds per hundred rows)."""
    sql.update_rows(model, {pk: {name: updates[pk][name] for name in per_row if name in updates.get(pk, {})} for pk in pks},
                    common={name: value for name, value in columns.items() if name not in per_row})


def history(obj: models.Model):
    """The events of ``obj``, oldest first. Uses index transition_object_idx."""
    from .models import TransitionEvent

    return TransitionEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(type(obj)), object_id=obj.pk
    ).select_related("actor").order_by("at", "id")
