"""Plugins for every scheduler test: a throwaway migrated database and a real template-svc, started only when a
test asks for them (the scenarios against the real campaign-api do)."""

from __future__ import annotations

pytest_plugins = ["service_kit.testing", "template_svc.testing"]
