"""Who sees which money: a person their own wallets, a company member the company's, staff all."""

from django.db.models import Q
from django.http import Http404

from core.access import SELLER, STAFF, SYSTEM_ACTOR, company_ids, has_role, is_staff, roles_of, scope

from .interface import Owner
from .models import Account, EscrowHold, Payout


def _owned(user, prefix: str = "owner") -> Q:
    return Q(**{f"{prefix}_kind": "user", f"{prefix}_id": user.pk}) | Q(
        **{f"{prefix}_kind": "company", f"{prefix}_id__in": list(company_ids(user))}
    )


def may_act_for(actor, owner: Owner) -> bool:
    """Whether ``actor`` may spend from ``owner``'s wallet: its own, its company's, or staff/system."""
    if actor is SYSTEM_ACTOR or STAFF in roles_of(actor):
        return True
    if owner.kind == "user":
        return getattr(actor, "pk", None) == owner.id
    return owner.id in company_ids(actor)


@scope(Account)
def accounts_visible(user, qs):
    return qs if is_staff(user) else qs.filter(_owned(user))


@scope(Payout)
def payouts_visible(user, qs):
    return qs if is_staff(user) else qs.filter(_owned(user))


@scope(EscrowHold)
def holds_visible(user, qs):
    return qs if is_staff(user) else qs.filter(_owned(user, "payer"))


def owner_for(user, company_id=None) -> Owner:
    """The wallet owner ``user`` acts for: the company asked for (a member only, else 404), a
    seller's single company by default, otherwise the person."""
    if company_id not in (None, ""):
        try:
            pk = int(company_id)
        except (TypeError, ValueError):
            raise Http404 from None
        if pk not in company_ids(user) and not is_staff(user):
            raise Http404
        return Owner.company(pk)
    if has_role(user, SELLER):
        ids = company_ids(user)
        if len(ids) == 1:
            return Owner.company(next(iter(ids)))
    return Owner.user(user)
