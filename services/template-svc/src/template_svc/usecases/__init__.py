"""The service's use cases, one per module, each named by its verb."""
