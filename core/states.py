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
from django.db import models, transaction
from django.utils import timezone

from .access import SYSTEM_ACTOR, roles_of
from .errors import DomainError, ErrorCode


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str
    roles: frozenset[str]
    name: str = ""


def move(sources: str | Iterable[str], target: str, *roles: str, name: str = "") -> Transition:
    srcs = frozenset([sources] if isinstance(sources, str) else sources)
    return Transition(srcs, target, frozenset(roles), name or target)


@dataclass
class StateMachine:
    name: str
    states: type[models.TextChoices]
    transitions: list[Transition]
    field: str = "status"
    _index: dict = dataclasses.field(default_factory=dict, init=False, repr=False)

    def __post_init__(self):
        valid = set(self.states.values)
        for t in self.transitions:
            unknown = (t.sources | {t.target}) - valid
            if unknown:
                raise ValueError(f"{self.name}: unknown states {sorted(unknown)}")
            for src in t.sources:
                if (src, t.target) in self._index:
                    raise ValueError(f"{self.name}: {src}→{t.target} declared twice")
                self._index[(src, t.target)] = t

    def find(self, source: str, target: str) -> Transition | None:
        return self._index.get((source, target))

    def targets(self, source: str, actor=None) -> list[str]:
        """The states ``actor`` may move to from ``source`` (all of them when actor is None)."""
        roles = roles_of(actor) if actor is not None else None
        return [
            t.target
            for (src, _), t in self._index.items()
            if src == source and (roles is None or t.roles & roles)
        ]

    def allows(self, source: str, target: str, actor) -> bool:
        t = self.find(source, target)
        return bool(t and t.roles & roles_of(actor))


def _actor_fields(actor) -> dict:
    if actor is SYSTEM_ACTOR or actor is None:
        return {"actor": None, "actor_label": "system"}
    return {"actor": actor, "actor_label": actor.get_username()}


def transition(obj: models.Model, to: str, *, actor, reason: str = "", payload: dict | None = None,
               place: str = "", extra_updates: dict | None = None):
    """Move ``obj`` to ``to`` as ``actor``; return the stored event.

    Raises DomainError ``illegal_transition`` (409) when the declaration has no such move from the
    current state, ``transition_not_permitted`` (403) when the actor's roles may not fire it.
    ``extra_updates`` are other columns written in the same UPDATE (e.g. a timestamp).
    """
    from .models import TransitionEvent

    machine: StateMachine = type(obj).machine
    model = type(obj)
    with transaction.atomic():
        current = model.objects.select_for_update().filter(pk=obj.pk).values_list(machine.field, flat=True).first()
        if current is None:
            raise DomainError(ErrorCode.NOT_FOUND, f"{model._meta.verbose_name} not found.")
        t = machine.find(current, to)
        if t is None:
            raise DomainError(
                ErrorCode.ILLEGAL_TRANSITION,
                f"Cannot move {machine.name} from {current} to {to}.",
                {"status": [f"Allowed from {current}: {', '.join(machine.targets(current)) or 'none'}."]},
            )
        if not t.roles & roles_of(actor):
            raise DomainError(ErrorCode.TRANSITION_NOT_PERMITTED, f"You may not move this {machine.name} to {to}.")
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
            **_actor_fields(actor),
        )
    for name, value in updates.items():
        setattr(obj, name, value)
    return event


def transition_batch(model: type[models.Model], ids: Iterable[int], source: str, to: str, *, actor,
                     reason: str = "", place: str = "") -> list[int]:
    """Move many rows from ``source`` to ``to`` in one transaction; return the ids that moved.

    Rows no longer in ``source`` are skipped (a retried batch changes nothing more). Used where
    volume is high (the parcel pipeline): three statements whatever the batch size.
    """
    from .models import TransitionEvent

    machine: StateMachine = model.machine
    t = machine.find(source, to)
    if t is None:
        raise DomainError(ErrorCode.ILLEGAL_TRANSITION, f"Cannot move {machine.name} from {source} to {to}.")
    if not t.roles & roles_of(actor):
        raise DomainError(ErrorCode.TRANSITION_NOT_PERMITTED, f"You may not move {machine.name} to {to}.")
    ids = sorted(set(ids))
    with transaction.atomic():
        locked = list(
            model.objects.select_for_update(skip_locked=True)
            .filter(pk__in=ids, **{machine.field: source})
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not locked:
            return []
        model.objects.filter(pk__in=locked).update(**{machine.field: to})
        now = timezone.now()
        ct = ContentType.objects.get_for_model(model)
        actor_fields = _actor_fields(actor)
        TransitionEvent.objects.bulk_create(
            [
                TransitionEvent(machine=machine.name, content_type=ct, object_id=pk, from_state=source,
                                to_state=to, at=now, reason=reason, place=place, payload={}, **actor_fields)
                for pk in locked
            ]
        )
    return locked


def history(obj: models.Model):
    """The events of ``obj``, oldest first. Uses index transition_object_idx."""
    from .models import TransitionEvent

    return TransitionEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(type(obj)), object_id=obj.pk
    ).select_related("actor").order_by("at", "id")
