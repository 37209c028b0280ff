from django.conf import settings
from django.db import models

from core.access import BUYER, STAFF, SYSTEM
from core.states import StateMachine, move


class Shipment(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft"
        SUBMITTED = "submitted"
        ACCEPTED = "accepted"
        CANCELLED = "cancelled"
        DONE = "done"

    machine = StateMachine(
        "shipment",
        Status,
        [
            move(Status.DRAFT, Status.SUBMITTED, BUYER),
            move(Status.SUBMITTED, Status.ACCEPTED, STAFF, SYSTEM),
            move([Status.DRAFT, Status.SUBMITTED], Status.CANCELLED, BUYER, STAFF),
            move(Status.ACCEPTED, Status.DONE, SYSTEM),
        ],
    )

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    note = models.CharField(max_length=100, blank=True)

    def __str__(self):
        return f"shipment {self.pk} ({self.status})"
