"""Callbacks that cannot drift: the system check refuses a callback task name, declared in code
(core.tasks.callback) or stored in a ``callback_task`` column, that no Celery task is registered as."""

import pytest
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection

from core import tasks as core_tasks
from core.checks import callback_fields, registered_tasks
from customs.models import Declaration
from tests.customs.factories import declaration

pytestmark = pytest.mark.django_db


@pytest.fixture
def reference(reference):
    """Reference data and a KZ duty rate for the declarations' smartphones."""
    from datetime import date
    from decimal import Decimal

    from customs.models import TariffLine

    TariffLine.objects.create(hs_code="851713", country="KZ", description="Smartphones (test rate)",
                              duty_percent=Decimal("5"), effective_from=date(2020, 1, 1), source="test")


def callback_errors(**kwargs):
    return sorted((e for e in checks.run_checks(**kwargs) if e.id in ("karavan.E003", "karavan.E004")),
                  key=lambda e: e.id)


def test_the_real_code_and_rows_pass(reference):
    declaration(reference="CONS-OK", callback_task="warehouses.declaration_changed")

    assert callback_errors(databases=["default"]) == []
    call_command("check", "--database", "default")  # raises SystemCheckError on an error
    # What is checked: the callers' constants, and both columns, against Celery's own registry.
    assert {"orders.fulfilment_changed", "orders.declaration_changed", "warehouses.declaration_changed"} <= set(
        core_tasks.declared_callbacks())
    assert {f"{m._meta.label}.{f.name}" for m, f in callback_fields()} == {
        "customs.Declaration.callback_task", "warehouses.Fulfilment.callback_task"}
    assert "orders.fulfilment_changed" in registered_tasks()


def test_a_misspelt_name_in_code_or_in_a_row_is_an_error(reference, monkeypatch):
    monkeypatch.setattr(core_tasks, "_callbacks", dict(core_tasks._callbacks))
    bad_constant = core_tasks.callback("orders.fulfilment_chagned")
    declaration(reference="CONS-TYPO", callback_task="warehouses.declaration_changed")
    Declaration.objects.filter(reference="CONS-TYPO").update(callback_task="warehouses.declaraton_changed")

    errors = callback_errors(databases=["default"])

    assert bad_constant == "orders.fulfilment_chagned"
    assert [(e.id, e.level) for e in errors] == [("karavan.E003", checks.ERROR), ("karavan.E004", checks.ERROR)]
    in_code, in_rows = errors
    assert "'orders.fulfilment_chagned'" in in_code.msg and __name__ in in_code.msg
    assert "Did you mean 'orders.fulfilment_changed'?" in in_code.hint
    assert "1 customs.Declaration row(s)" in in_rows.msg and "'warehouses.declaraton_changed'" in in_rows.msg
    assert "Did you mean 'warehouses.declaration_changed'?" in in_rows.hint
    with pytest.raises(SystemCheckError):
        call_command("check", "--database", "default")


def test_rows_are_read_only_where_a_database_is_named(reference, monkeypatch):
    declaration(reference="CONS-TYPO", callback_task="warehouses.declaration_changed")
    Declaration.objects.filter(reference="CONS-TYPO").update(callback_task="warehouses.declaraton_changed")

    # Plain `manage.py check` (no database named) reads no rows, like Django's own database checks.
    assert callback_errors() == []
    # Before `migrate` the tables are not there: the database part is skipped, not an exception.
    monkeypatch.setattr(connection.introspection, "table_names", lambda *args, **kwargs: [])
    assert callback_errors(databases=["default"]) == []
