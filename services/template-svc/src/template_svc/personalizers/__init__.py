"""Personalisation strategies and the registry that picks one by name."""
