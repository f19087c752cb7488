"""Original import path of :class:`~cerebros.search.SimpleCerebrosRandomSearch`."""

from cerebros.search import SearchFailedError, SimpleCerebrosRandomSearch

__all__ = ["SimpleCerebrosRandomSearch", "SearchFailedError"]
