"""Celery adapters of the marketplace: take ids, call one service, safe to run twice."""

from celery import shared_task


@shared_task(name="marketplace.make_thumbnails", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def make_thumbnails(image_id: int) -> dict:
    from .services import image_thumbnails_make

    return image_thumbnails_make(image_id=image_id)
