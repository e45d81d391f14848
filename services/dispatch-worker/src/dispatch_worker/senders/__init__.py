"""Sender adapters."""
