"""Print campaign-api's OpenAPI document as JSON, built from the app itself (no server, no database needed).

uv run python web/scripts/dump_openapi.py > web/src/api/openapi.json
"""

from __future__ import annotations

import json
import sys

from campaign_api.main import create_app
from campaign_api.settings import Settings


def main() -> int:
    """Write the schema to stdout, keys in the app's own order, so the output is stable between runs."""
    schema = create_app(Settings(service_version="contract")).openapi()
    json.dump(schema, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
