"""A batch of parcels reads the buyers' cross-order allowances once (``allowances_read``), and each
assessment inside it gets what its own query would answer: every unreleased use of that buyer in
that jurisdiction, period and currency, except the parcel's own."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customs.models import AllowanceUse
from customs.services.quotes import _allowance_used, allowances_read


@pytest.mark.django_db
def test_the_batch_read_answers_as_one_query_per_assessment_would(make_user):
    buyer, other, absent = make_user("b1"), make_user("b2"), make_user("b3")
    for owner, reference, jurisdiction, key, amount, currency, released in [
        (buyer, "order:1", "CN", "2026", 100_00, "CNY", False),
        (buyer, "order:2", "CN", "2026", 250_00, "CNY", False),
        (buyer, "order:3", "CN", "2026", 900_00, "CNY", True),  # cancelled: given back
        (buyer, "order:4", "CN", "2025", 400_00, "CNY", False),  # another year
        (buyer, "order:5", "UZ", "2026-05", 70_00, "USD", False),  # another limit
        (other, "order:6", "CN", "2026", 50_00, "CNY", False),
    ]:
        AllowanceUse.objects.create(buyer=owner, reference=reference, jurisdiction=jurisdiction, period_key=key,
                                    amount_minor=amount, currency=currency,
                                    released_at=timezone.now() if released else None)
    questions = [(b.pk, own, limit) for b in (buyer, other, absent) for own in ("", "order:1", "order:6")
                 for limit in (("CN", "2026", "CNY"), ("CN", "2025", "CNY"), ("UZ", "2026-05", "USD"), ("CN", "2026", "USD"))]
    one_by_one = [_allowance_used(pk, own)(*limit) for pk, own, limit in questions]

    with CaptureQueriesContext(connection) as ctx, allowances_read([buyer.pk, other.pk, absent.pk, None]):
        batch = [_allowance_used(pk, own)(*limit) for pk, own, limit in questions]

    assert batch == one_by_one
    assert len(ctx.captured_queries) == 1
    assert _allowance_used(buyer.pk, "")("CN", "2026", "CNY").minor == 350_00  # outside the block: read again
