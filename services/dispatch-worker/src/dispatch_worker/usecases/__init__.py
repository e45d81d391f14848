"""Use cases of the dispatch worker, one per module."""
