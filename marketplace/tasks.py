"""Celery adapters of the marketplace: take ids, call one service, safe to run twice."""

from celery import shared_task


@shared_task(name="marketplace.make_thumbnails", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def make_thumbnails(image_id: int) -> dict:
    from .services import image_thumbnails_make

    return image_thumbnails_make(image_id=image_id)


# Catalogue imports: a worker killed in the middle of a chunk leaves it undone (its transaction rolled
# back); acks_late hands the message to another worker, which writes the chunk from the start.
@shared_task(name="marketplace.import_start")
def import_start(import_id: int) -> int:
    from .services import catalogue_import_start

    return len(catalogue_import_start(import_id=import_id))


@shared_task(name="marketplace.import_chunk")
def import_chunk(import_id: int, index: int) -> bool:
    from .services import catalogue_import_chunk

    return catalogue_import_chunk(import_id=import_id, index=index)


@shared_task(name="marketplace.imports_resume")
def imports_resume() -> int:
    """Celery beat: re-send the start of imports that stopped moving: queued, or running with no chunk
    written for ``MARKETPLACE_IMPORT_STALL_AFTER`` seconds. A chunk's message lost with a worker killed
    between taking it and recording it, or with a broker restart, left its import ``running`` for
    ever (found by tests/faults). The start re-sends only the chunks not done; a chunk done is
    skipped, so a copy is harmless."""
    from django.conf import settings
    from django.db.models import Exists, OuterRef, Q
    from django.utils import timezone

    from .models import CatalogueImport, CatalogueImportChunk

    cutoff = timezone.now() - timezone.timedelta(seconds=settings.MARKETPLACE_IMPORT_STALL_AFTER)
    recent = CatalogueImportChunk.objects.filter(catalogue_import_id=OuterRef("pk"), finished_at__gt=cutoff)
    stalled = list(CatalogueImport.objects.filter(
        Q(status=CatalogueImport.Status.QUEUED, created_at__lt=cutoff)
        | Q(status=CatalogueImport.Status.RUNNING, started_at__lt=cutoff)
    ).exclude(Exists(recent)).order_by("pk").values_list("pk", flat=True)[:100])
    for pk in stalled:
        import_start.delay(pk)
    return len(stalled)
