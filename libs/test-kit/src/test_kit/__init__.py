"""What the platform's tests share and nothing at runtime needs: throwaway databases, broker checks, fault proxies.

Installed with the dev dependency group only; the repository's root conftest.py loads ``test_kit.pytest_plugin``.
"""
