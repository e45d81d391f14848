"""Validate rendered Kubernetes manifests with kubernetes-validate (strict), one JSON verdict per object.

Run in its own interpreter (the tests start it with `uv run --with kubernetes-validate`):

    python tests/deploy/k8s_validate.py 1.30.0 rendered.yaml ...
    # prints [{"file": ..., "kind": ..., "name": ..., "verdict": "valid" | "no-schema" | "invalid", "error": ...}]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml


def verdicts(version: str, files: list[Path]) -> list[dict[str, Any]]:
    """Validate every object of every file against the Kubernetes version's strict schemas."""
    results: list[dict[str, Any]] = []
    for path in files:
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc:
                continue
            entry: dict[str, Any] = {
                "file": str(path),
                "kind": doc.get("kind"),
                "apiVersion": doc.get("apiVersion"),
                "name": doc.get("metadata", {}).get("name"),
                "verdict": "valid",
                "error": None,
            }
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.SchemaNotFoundError as exc:
                entry.update(verdict="no-schema", error=str(exc))
            except kubernetes_validate.ValidationError as exc:
                # the library copies jsonschema's error: path and message say which field is wrong and why
                path_in_doc = "/".join(str(p) for p in exc.absolute_path)
                entry.update(verdict="invalid", error=f"{path_in_doc}: {exc.message}")
            results.append(entry)
    return results


if __name__ == "__main__":
    print(json.dumps(verdicts(sys.argv[1], [Path(f) for f in sys.argv[2:]])))
