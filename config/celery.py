"""The one Celery app. Settings come from Django's, under the CELERY_ prefix."""

import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("karavan")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# What the tasks import when they first run (their imports are inside them, after Django is set up).
TASK_MODULES = (
    "orders.services", "orders.tracking", "orders.invoice", "orders.returns",
    "marketplace.services",
    "warehouses.services", "warehouses.services.batches", "warehouses.services.fulfilment",
    "customs.services", "customs.services.gateway_steps", "customs.services.documents", "customs.gateways",
    "customs.gateways.simulator", "customs.rules.china", "customs.rules.commercial", "customs.rules.eaeu",
    "customs.rules.tajikistan", "customs.rules.turkmenistan", "customs.rules.uzbekistan",
    "payments.services",
)


@worker_init.connect
def preload(**kwargs) -> None:
    """In the worker's main process, before its pool forks: load once what every pool process
    would otherwise load in its first task (and again after each restart of a child), so that the
    children share it: the modules the tasks import when they run, and Babel's locale data of the
    site's languages (every event, breakdown and price a task writes is formatted with it; loading
    one language took a worker process 50 to 100 ms). Opens no connection to the database or the
    broker: the children open their own.

    Then everything loaded so far is frozen out of the garbage collector (``gc.freeze``, as
    Python's documentation advises before a fork): a full collection in a pool process walked the
    140,000 objects of Django and the apps each time (65 ms), several times in a task that
    builds a batch of a hundred parcels; the children's pages stay shared too."""
    import gc
    import importlib

    from babel import Locale
    from django.conf import settings

    from core.money import babel_locale

    for name in TASK_MODULES:
        importlib.import_module(name)
    for code, _name in settings.LANGUAGES:
        locale = Locale.parse(babel_locale(code))
        locale.currency_formats, locale.currency_symbols, locale.percent_formats  # noqa: B018 - loads the locale's data
    gc.collect()
    gc.freeze()
