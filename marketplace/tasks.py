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
