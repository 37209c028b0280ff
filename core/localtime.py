"""Times in the reader's own time zone.

Every time is stored in UTC; pages showed it as such, so a buyer in Almaty read 06:27 for an order
placed at 11:27 his time. The zone is the browser's (``karavan.js`` writes it to a cookie from
``Intl``), else the one of the country in the reader's profile (read once, at login, into the
session), else UTC. The API keeps ISO 8601 with its offset.
"""

from __future__ import annotations

import re
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import timezone

COOKIE = "karavan_tz"
SESSION_KEY = "karavan_tz"
# The countries the platform serves; Kazakhstan has one zone (UTC+5) since March 2024.
COUNTRY_ZONES = {
    "CN": "Asia/Shanghai", "KZ": "Asia/Almaty", "KG": "Asia/Bishkek", "UZ": "Asia/Tashkent",
    "TJ": "Asia/Dushanbe", "TM": "Asia/Ashgabat",
}
_NAME = re.compile(r"^[A-Za-z]+(?:/[A-Za-z0-9_+\-]+){1,2}$")


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo | None:
    """The IANA zone ``name`` (``Area/City``), or None for anything else a cookie may carry."""
    if not name or len(name) > 64 or not _NAME.match(name):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


class LocalTimeMiddleware:
    """Activates the reader's zone for the request (after the session middleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        found = zone(request.COOKIES.get(COOKIE, "")) or zone(session.get(SESSION_KEY, "") if session is not None else "")
        with timezone.override(found):  # None: the default, UTC
            return self.get_response(request)


@receiver(user_logged_in, dispatch_uid="core.localtime_from_profile")
def remember_zone(sender, request, user, **kwargs):
    """The zone of the country in the reader's profile, kept in the session: no query per page."""
    from .models import Profile

    if request is None or not hasattr(request, "session"):
        return
    country = Profile.objects.filter(user=user).values_list("country_id", flat=True).first()
    request.session[SESSION_KEY] = COUNTRY_ZONES.get(country or "", "")
