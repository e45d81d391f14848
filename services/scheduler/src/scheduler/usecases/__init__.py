"""Use cases of the scheduler, one per module."""
