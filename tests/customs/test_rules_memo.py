"""The landed-cost rules are kept in the process's memory between quotes (issue 14), and follow the
data: a write to a table the rules read gives the next quote the new figures."""

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customs.models import TaxRate
from customs.rules import data


@pytest.mark.django_db
def test_the_memo_reads_the_rules_once_then_only_their_version(reference):
    today = timezone.localdate()
    with data.cached():
        first = data.vat("KZ", today)
    with CaptureQueriesContext(connection) as ctx, data.cached():
        again = data.vat("KZ", today)
        data.vat("KZ", today)
    assert again == first
    assert [q["sql"] for q in ctx.captured_queries] == ["SELECT version FROM customs_rulesstamp WHERE id = 1"]


@pytest.mark.django_db
def test_a_changed_rate_is_read_again_by_the_next_block(reference):
    today = timezone.localdate()
    with data.cached():
        before = data.vat("KZ", today)
    TaxRate.objects.filter(country="KZ", tax="vat").update(rate_percent=F("rate_percent") + 1)
    with data.cached():
        after = data.vat("KZ", today)
    assert after.percent == before.percent + 1


@pytest.mark.django_db
def test_outside_a_block_every_lookup_reads_the_database(reference):
    today = timezone.localdate()
    with CaptureQueriesContext(connection) as ctx:
        data.vat("KZ", today)
        data.vat("KZ", today)
    assert len(ctx.captured_queries) == 2
