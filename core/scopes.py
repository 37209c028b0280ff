"""Visibility of core's own models."""

from .access import company_ids, is_staff, scope
from .models import Company


@scope(Company)
def companies_visible(user, qs):
    return qs if is_staff(user) else qs.filter(pk__in=company_ids(user))
