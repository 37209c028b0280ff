"""Who sees which declarations: brokers and staff all of them; a declarant the ones they created;
a payer (a company's members, or the paying user) the ones charged to them."""

from django.db.models import Q

from core.access import BROKER, STAFF, company_ids, has_role, scope

from .models import AllowanceUse, Declaration, DeclarationDocument


@scope(Declaration)
def declarations(user, qs):
    if has_role(user, BROKER) or has_role(user, STAFF):
        return qs
    return qs.filter(Q(created_by=user) | Q(payer_kind="company", payer_id__in=company_ids(user))
                     | Q(payer_kind="user", payer_id=user.pk))


@scope(DeclarationDocument)
def documents(user, qs):
    return qs.filter(declaration__in=declarations(user, Declaration.objects.all()))


@scope(AllowanceUse)
def allowances(user, qs):
    return qs if has_role(user, STAFF) else qs.filter(buyer=user)
