"""A tiny app that exercises the core mechanisms (state machine, access, idempotency, Celery)
through a real model and real endpoints. Installed only when KARAVAN_ENV=test."""
