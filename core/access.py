"""Who may see and do what: the one place every interface asks.

Each app registers, per model, a scope: a function ``(user, queryset) -> queryset`` that keeps only
the rows the user may see. The UI, the API and the admin all call :func:`visible`, so another
user's object is simply absent (404), never 403 with data. A model with no scope is visible to
staff only: forgetting to register one fails closed.
"""

from collections.abc import Callable

from django.contrib.auth.models import AnonymousUser
from django.db.models import Model, QuerySet
from django.http import Http404

# Roles are Django groups, except staff (see is_staff) and system (Celery, commands).
BUYER, SELLER, OPERATOR, BROKER, STAFF, SYSTEM = "buyer", "seller", "operator", "broker", "staff", "system"
ROLES = (BUYER, SELLER, OPERATOR, BROKER, STAFF, SYSTEM)
GROUP_ROLES = (BUYER, SELLER, OPERATOR, BROKER)


class _System:
    """The actor for automatic transitions (Celery tasks, management commands)."""

    pk = None
    id = None
    username = SYSTEM
    is_staff = False
    is_superuser = False
    is_authenticated = True
    is_active = True

    def __str__(self):
        return SYSTEM

    def __repr__(self):
        return "<SYSTEM>"


SYSTEM_ACTOR = _System()

_scopes: dict[type[Model], Callable] = {}


def scope(model: type[Model]):
    """Register the visibility rule of ``model``."""

    def register(func):
        _scopes[model] = func
        return func

    return register


def is_staff(user) -> bool:
    """The one answer to "is this staff?": a signed-in user with ``is_staff`` or a superuser.

    Never an anonymous visitor, never the system actor (rules that also let the system act say so
    themselves). Roles, visibility and every app's checks ask here, so a superuser without the
    ``is_staff`` flag and a staff user who is not a superuser are treated alike everywhere.
    """
    if user is None or user is SYSTEM_ACTOR or not getattr(user, "is_authenticated", False):
        return False
    return bool(getattr(user, "is_staff", False) or getattr(user, "is_superuser", False))


def roles_of(user) -> frozenset[str]:
    if user is SYSTEM_ACTOR:
        return frozenset({SYSTEM})
    if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_karavan_roles", None)
    if cached is None:
        cached = remember_roles(user, user.groups.values_list("name", flat=True))
    return cached


def remember_roles(user, group_names) -> frozenset[str]:
    """Cache ``user``'s roles from the names of their groups, read by a caller's own query (the
    checkout reads them with the storefront): :func:`roles_of` then asks nothing more."""
    roles = frozenset(set(group_names) & set(GROUP_ROLES) | ({STAFF} if is_staff(user) else set()))
    user._karavan_roles = roles
    return roles


def company_ids(user) -> frozenset[int]:
    """The companies ``user`` is a member of (cached on the user object for the request)."""
    if user is None or user is SYSTEM_ACTOR or not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_karavan_companies", None)
    if cached is None:
        from .models import CompanyMember

        cached = frozenset(CompanyMember.objects.filter(user=user).values_list("company_id", flat=True))
        user._karavan_companies = cached
    return cached


def has_role(user, role: str) -> bool:
    return role in roles_of(user)


def visible(user, queryset: QuerySet) -> QuerySet:
    """The rows of ``queryset`` that ``user`` may see: all of them for staff and the system."""
    if user is SYSTEM_ACTOR or is_staff(user):
        return queryset
    if not getattr(user, "is_authenticated", False):
        rule = _scopes.get(queryset.model)
        return rule(None, queryset) if rule and getattr(rule, "public", False) else queryset.none()
    rule = _scopes.get(queryset.model)
    return queryset.none() if rule is None else rule(user, queryset)


def get_visible(user, queryset: QuerySet, **lookup):
    """The one object the user may see, or 404 (never 403: existence is not disclosed)."""
    try:
        return visible(user, queryset).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def public(func):
    """Mark a scope as applying to anonymous visitors too (storefronts, products)."""
    func.public = True
    return func
