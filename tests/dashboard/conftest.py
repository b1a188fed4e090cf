import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_cache():
    # The per-handyman table is cached for minutes; ids repeat between tests.
    cache.clear()
    yield
    cache.clear()
