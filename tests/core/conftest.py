"""Markers of the core tests."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "demo_sqlite: builds the demo on the embedded default (SQLite, no Redis) in a subprocess and crawls its pages",
    )
