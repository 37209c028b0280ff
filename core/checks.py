"""System checks: demo secrets in production, and callback task names that must match a task.

Apps hand lower apps the *name* of a Celery task to call back (a lower app cannot import its
caller), and the lower app stores it in a ``callback_task`` column. A name that matches no task is
lost silently on the worker, so both the names apps declare in code (:func:`core.tasks.callback`)
and the names stored in rows are checked against the tasks Celery has registered.
"""

import difflib

from django.apps import apps
from django.conf import settings
from django.core.checks import Error, Tags, register
from django.db import DatabaseError, connections, transaction
from django.utils.module_loading import autodiscover_modules

CALLBACK_FIELD = "callback_task"


@register(Tags.security, deploy=True)
def demo_secrets(app_configs, **kwargs):
    errors = []
    if settings.PRODUCTION and "insecure" in settings.SECRET_KEY:
        errors.append(Error("SECRET_KEY is the demo key.", id="karavan.E001"))
    if settings.PRODUCTION and settings.PAYMENT_WEBHOOK_SECRETS.get("simulator") == "karavan-simulator-secret":
        errors.append(Error("The payment simulator's demo secret is set in production.", id="karavan.E002"))
    return errors


def registered_tasks() -> set[str]:
    """The task names Celery knows once every app's ``tasks`` module is imported.

    The modules are imported here with Django's ``autodiscover_modules`` (what config/celery.py's
    ``autodiscover_tasks()`` imports), not with ``app.loader.import_default_modules()``: Celery's
    Django fixup runs the system checks on that signal, which would call this check again.
    """
    from celery import current_app

    autodiscover_modules("tasks")
    return {name for name in current_app.tasks if not name.startswith("celery.")}


def _hint(name: str, known: set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    if close:
        return f"Did you mean {close[0]!r}?"
    prefix = name.split(".", 1)[0] + "."
    same_app = sorted(n for n in known if n.startswith(prefix))
    if same_app:
        return f"Registered tasks of {prefix[:-1]!r}: {', '.join(same_app)}."
    return f"No registered task starts with {prefix!r}: is the task defined in its app's tasks module?"


@register()
def declared_callback_tasks(app_configs, **kwargs):
    """Callback names declared in code with core.tasks.callback() must be registered tasks.

    Names are declared when their module is imported: every app's ``services`` (where callers
    declare them) is imported first, as the admin imports every ``admin`` module."""
    from .tasks import declared_callbacks

    autodiscover_modules("services")
    declared = declared_callbacks()
    if not declared:
        return []
    known = registered_tasks()
    return [
        Error(f"Callback task {name!r} declared in {module} is not a registered Celery task.",
              hint=_hint(name, known), obj=module, id="karavan.E003")
        for name, module in sorted(declared.items()) if name not in known
    ]


def callback_fields():
    """(model, field) for every concrete model field named ``callback_task``, in any app."""
    return [(model, field) for model in apps.get_models() for field in model._meta.concrete_fields
            if field.name == CALLBACK_FIELD]


@register(Tags.database)
def stored_callback_tasks(app_configs, databases=None, **kwargs):
    """The distinct names stored in ``callback_task`` columns must be registered tasks.

    A database check, like Django's own: it runs where a database is named (``check --database
    default``, ``migrate``, the test runner), and skips a table that does not exist yet (before
    ``migrate``)."""
    fields = callback_fields()
    if not databases or not fields:
        return []
    known = None
    errors = []
    for alias in databases:
        connection = connections[alias]
        try:
            tables = set(connection.introspection.table_names())
        except DatabaseError:
            continue  # no database to read: the connection checks say so
        for model, field in fields:
            if model._meta.db_table not in tables:
                continue
            try:
                with transaction.atomic(using=alias):
                    names = set(model._default_manager.using(alias).exclude(**{field.name: ""})
                                .values_list(field.name, flat=True).distinct())
            except DatabaseError:
                continue  # the column is not migrated yet
            if known is None:
                known = registered_tasks()
            for name in sorted(names - known):
                count = model._default_manager.using(alias).filter(**{field.name: name}).count()
                errors.append(Error(
                    f"{count} {model._meta.label} row(s) in database {alias!r} call back {name!r}, which is not a "
                    "registered Celery task.",
                    hint=_hint(name, known) + " Rename the task back, or correct the rows in a data migration.",
                    obj=model, id="karavan.E004",
                ))
    return errors
