import os
from pathlib import Path

import pytest

# $KARAVAN_SHOTS keeps them somewhere a later run does not clean.
SHOTS = Path(os.environ.get("KARAVAN_SHOTS") or Path(__file__).resolve().parents[2] / "test-results" / "screenshots")


@pytest.fixture
def shoot(page, request):
    """Save a full-page screenshot of each step under test-results/screenshots/<test>/."""
    folder = SHOTS / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 100))

    def take(step: str):
        path = folder / f"{next(counter):02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def demo_accounts(transactional_db):
    from django.core.management import call_command

    from core import demo

    call_command("load_reference", stdout=open("/dev/null", "w"))  # noqa: SIM115
    return demo.seed(None)["users"]
