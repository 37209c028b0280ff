"""Visibility of core's own models."""

from .access import company_ids, scope
from .models import Company


@scope(Company)
def companies_visible(user, qs):
    return qs if user.is_staff else qs.filter(pk__in=company_ids(user))
