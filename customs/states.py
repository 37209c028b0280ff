"""The customs declaration state machine, declared once.

draft → submitted → registered → green | yellow (documents requested) | red (physical inspection)
→ assessed → paid → released; or rejected with a reason from registered, yellow or red.
The gateway (Celery, as ``system``) moves the automatic steps; brokers move the rest.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.access import BROKER, OPERATOR, SELLER, STAFF, SYSTEM
from core.states import StateMachine, move


class DeclarationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    REGISTERED = "registered", _("Registered")
    GREEN = "green", _("Green channel")
    YELLOW = "yellow", _("Documents requested")
    RED = "red", _("Physical inspection")
    ASSESSED = "assessed", _("Assessed")
    PAID = "paid", _("Paid")
    RELEASED = "released", _("Released")
    REJECTED = "rejected", _("Rejected")


S = DeclarationStatus

DECLARATION_MACHINE = StateMachine("declaration", DeclarationStatus, [
    move(S.DRAFT, S.SUBMITTED, SELLER, OPERATOR, BROKER, STAFF, SYSTEM, name="submit"),
    move(S.SUBMITTED, S.REGISTERED, SYSTEM, name="register"),
    move(S.REGISTERED, S.GREEN, SYSTEM, BROKER, STAFF, name="green"),
    move(S.REGISTERED, S.YELLOW, SYSTEM, BROKER, STAFF, name="request_documents"),
    move(S.REGISTERED, S.RED, SYSTEM, BROKER, STAFF, name="inspect"),
    move(S.YELLOW, S.RED, SYSTEM, BROKER, STAFF, name="inspect"),
    move(S.GREEN, S.ASSESSED, SYSTEM, BROKER, STAFF, name="assess"),
    move(S.YELLOW, S.ASSESSED, BROKER, STAFF, name="assess"),
    move(S.RED, S.ASSESSED, BROKER, STAFF, name="mark_inspected"),
    move(S.ASSESSED, S.PAID, SYSTEM, BROKER, STAFF, name="mark_paid"),
    move(S.PAID, S.RELEASED, SYSTEM, BROKER, STAFF, name="release"),
    move([S.REGISTERED, S.YELLOW, S.RED], S.REJECTED, SYSTEM, BROKER, STAFF, name="reject"),
])

# The broker's actions: the target state of each and whether it needs a reason. An action is
# offered only where the machine's move to that target carries the action's name.
BROKER_ACTIONS = {
    "request_documents": (S.YELLOW, False),
    "inspect": (S.RED, False),
    "assess": (S.ASSESSED, False),
    "mark_inspected": (S.ASSESSED, False),
    "mark_paid": (S.PAID, False),
    "release": (S.RELEASED, False),
    "reject": (S.REJECTED, True),
}

ACTION_LABELS = {
    "request_documents": _("Request documents"),
    "inspect": _("Send to inspection"),
    "assess": _("Assess duties"),
    "mark_inspected": _("Mark inspected and assess"),
    "mark_paid": _("Mark paid"),
    "release": _("Release"),
    "reject": _("Reject"),
}


def actions_for(status: str, actor) -> list[str]:
    """The broker actions ``actor`` may take on a declaration in ``status``."""
    names = []
    for name, (target, _needs_reason) in BROKER_ACTIONS.items():
        t = DECLARATION_MACHINE.find(status, target)
        if t is not None and t.name == name and DECLARATION_MACHINE.allows(status, target, actor):
            names.append(name)
    return names
