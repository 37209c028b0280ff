"""Dates as the reader writes them, in the reader's time zone."""

from datetime import UTC, datetime

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import formats, timezone, translation

from core.localtime import COOKIE, SESSION_KEY, LocalTimeMiddleware

FIRST_OF_DECEMBER = datetime(2026, 12, 1, 18, 27)


@pytest.mark.parametrize(("language", "short", "long"), [
    ("kk", "01.12.2026 18:27", "2026 ж. 1 Желтоқсан, 18:27"),  # Django has no Kazakh formats: ours
    ("ru", "01.12.2026 18:27", "1 декабря 2026 г. 18:27"),
    ("uz", "01.12.2026 18:27", "1-Dekabr, 2026-yil 18:27"),
])
def test_dates_put_the_day_first_and_use_a_24_hour_clock(language, short, long):
    with translation.override(language):
        assert formats.date_format(FIRST_OF_DECEMBER, "SHORT_DATETIME_FORMAT") == short
        assert formats.date_format(FIRST_OF_DECEMBER, "DATETIME_FORMAT") == long
        assert formats.number_format("1234.5", 1) == "1234,5"


def zone_seen(cookie=None, session=None):
    request = RequestFactory().get("/")
    if cookie is not None:
        request.COOKIES[COOKIE] = cookie
    request.session = {SESSION_KEY: session} if session is not None else {}
    return LocalTimeMiddleware(lambda r: HttpResponse(timezone.get_current_timezone_name())
                               )(request).content.decode()


def test_the_browsers_zone_first_then_the_profiles_then_utc():
    assert zone_seen(cookie="Asia/Tashkent", session="Asia/Almaty") == "Asia/Tashkent"
    assert zone_seen(session="Asia/Almaty") == "Asia/Almaty"
    assert zone_seen() == "UTC"
    for junk in ("../../etc/passwd", "Mars/Olympus_Mons", "UTC; rm", "x" * 300, ""):
        assert zone_seen(cookie=junk, session="Asia/Almaty") == "Asia/Almaty"
    assert timezone.get_current_timezone_name() == "UTC"  # nothing left active after the request


def test_a_time_stored_in_utc_reads_in_almaty_time():
    with timezone.override("Asia/Almaty"), translation.override("kk"):
        placed = datetime(2026, 12, 1, 6, 27, tzinfo=UTC)
        assert formats.date_format(timezone.localtime(placed), "SHORT_DATETIME_FORMAT") == "01.12.2026 11:27"
