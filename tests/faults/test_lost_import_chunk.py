"""A catalogue import whose chunk messages were lost (taken by a worker killed before Redis recorded
them as unacknowledged, or dropped by a broker restart) stayed ``running`` for ever: nothing looked
at imports again. ``marketplace.imports_resume`` (beat, every 5 minutes) re-sends their start, which
sends the chunks not done."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.orders.conftest import kz_seller  # noqa: F401 - a fixture

from .conftest import app_broker
from .test_every_task_twice import Ctx, catalogue_import

pytestmark = [pytest.mark.faults, pytest.mark.django_db]


def test_an_import_whose_chunk_messages_were_lost_is_finished_by_the_sweep(request, reference, settings,
                                                                          django_capture_on_commit_callbacks):
    from marketplace.models import CatalogueImport, Product
    from marketplace.services import catalogue_import_chunk
    from marketplace.tasks import imports_resume

    imp = catalogue_import(Ctx(request), started=True)  # running, its chunk's message lost
    with app_broker("memory://") as app:
        app.conf.update(CELERY_TASK_ALWAYS_EAGER=True, task_always_eager=True)
        try:
            with django_capture_on_commit_callbacks(execute=True):
                assert imports_resume.apply().get() == 0  # not stalled yet: left alone
            CatalogueImport.objects.filter(pk=imp.pk).update(started_at=timezone.now() - timedelta(hours=1))
            with django_capture_on_commit_callbacks(execute=True):
                assert imports_resume.apply().get() == 1
        finally:
            app.conf.update(CELERY_TASK_ALWAYS_EAGER=False, task_always_eager=False)

    imp.refresh_from_db()
    assert imp.status == "done" and imp.rows_done == 5 and imp.rows_failed == 1
    assert Product.objects.filter(company=imp.company).count() == 5
    assert catalogue_import_chunk(import_id=imp.pk, index=0) is False  # the lost message, delivered late: nothing
    assert imports_resume.apply().get() == 0  # done imports are not resumed
