"""Repo-wide checks share the throwaway-database fixtures every service uses."""

pytest_plugins = ["service_kit.testing"]
