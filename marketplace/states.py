"""The marketplace's state machines, declared once: a company's verification, a company's place on a
storefront, a product's status.

Every change goes through :func:`core.states.transition`, which writes the event (who, when, why)
in the same transaction.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.access import SELLER, STAFF, SYSTEM
from core.models import Company
from core.states import StateMachine, move

# --- company verification ---------------------------------------------------------------------
# Company lives in core (every layer names it), but the marketplace is the app that verifies it: the
# machine is declared here and carried by marketplace.models.SellerCompany, a proxy of core.Company.
# Its events are stored against core.Company, so core.states.history(company) lists them.

V = Company.Verification

COMPANY_VERIFICATION_MACHINE = StateMachine("company_verification", Company.Verification, [
    # Staff checks the papers (and the tax id where it cannot be checked automatically).
    move(V.PENDING, V.VERIFIED, STAFF, SYSTEM, name="verify"),
    move([V.PENDING, V.VERIFIED], V.REJECTED, STAFF, SYSTEM, name="reject"),
    # A rejected company sends new papers, or a verified one must be checked again: back to the
    # queue. A rejection is never turned into a verification without that second look.
    move([V.VERIFIED, V.REJECTED], V.PENDING, STAFF, SYSTEM, name="reopen"),
], field="verification")


# --- storefront membership --------------------------------------------------------------------


class MembershipStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    SUSPENDED = "suspended", _("Suspended")


STOREFRONT_MEMBERSHIP_MACHINE = StateMachine("storefront_membership", MembershipStatus, [
    move("requested", "approved", STAFF, SYSTEM),
    move(["requested", "approved", "suspended"], "rejected", STAFF, SYSTEM),
    move("approved", "suspended", STAFF, SYSTEM),
    move("suspended", "approved", STAFF, SYSTEM),
    # A rejected company may ask again (the seller re-opens its own request).
    move("rejected", "requested", SELLER, STAFF),
])


# --- products ---------------------------------------------------------------------------------


class ProductStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", pgettext_lazy("product status", "Active")
    ARCHIVED = "archived", _("Archived")


PRODUCT_MACHINE = StateMachine("product", ProductStatus, [
    move(["draft", "archived"], "active", SELLER, STAFF, SYSTEM),
    move(["draft", "active"], "archived", SELLER, STAFF, SYSTEM),
    move(["active", "archived"], "draft", SELLER, STAFF, SYSTEM),
])


# --- catalogue imports ------------------------------------------------------------------------


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", pgettext_lazy("catalogue import status", "Running")
    DONE = "done", pgettext_lazy("catalogue import status", "Done")
    FAILED = "failed", pgettext_lazy("catalogue import status", "Failed")


# A seller's file moves by itself (Celery, or the import_catalogue command): the seller only uploads.
CATALOGUE_IMPORT_MACHINE = StateMachine("catalogue_import", ImportStatus, [
    move("queued", "running", SYSTEM, name="start"),
    move("running", "done", SYSTEM, name="finish"),
    # A file that cannot be read as a whole (found once it is opened in the worker): nothing written.
    move(["queued", "running"], "failed", SYSTEM, STAFF, name="fail"),
])
