"""Execute a Tiltfile with starlark-pyo3 against recording stubs of the Tilt built-ins it uses.

Run in its own interpreter (the tests start it with `uv run --with starlark-pyo3`):

    python tests/deploy/tilt_stub_run.py Tiltfile     # prints {"calls": [{"fn": ..., "args": [...], "kwargs": {...}}]}

A built-in the Tiltfile calls that is not stubbed here fails the run, so the tests notice new calls.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import starlark as sl

# built-ins whose return value the Tiltfile uses, and what the stub hands back
RETURNING: dict[str, Callable[..., Any]] = {
    "sync": lambda src, dest: {"step": "sync", "src": src, "dest": dest},
    "fall_back_on": lambda files: {"step": "fall_back_on", "files": files},
    "run": lambda cmd, trigger=None: {"step": "run", "cmd": cmd, "trigger": trigger},
    "helm": lambda chart, **kwargs: "<rendered chart " + chart + ">",
}
RECORDING_ONLY = ("docker_build", "k8s_yaml", "k8s_resource", "update_settings", "local_resource", "allow_k8s_contexts")
EXTENSIONS = {"ext://restart_process": ("docker_build_with_restart",)}


def run(tiltfile: Path) -> list[dict[str, Any]]:
    """Evaluate the Tiltfile and return every stubbed call in order."""
    calls: list[dict[str, Any]] = []

    def recorder(name: str, returns: Callable[..., Any] | None) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            calls.append({"fn": name, "args": list(args), "kwargs": kwargs})
            return returns(*args, **kwargs) if returns is not None else None

        return call

    def load_extension(spec: str) -> sl.FrozenModule:
        if spec not in EXTENSIONS:
            raise ValueError(f"the Tiltfile loads {spec!r}, which the stubs do not provide")
        module = sl.Module()
        for name in EXTENSIONS[spec]:
            module.add_callable(name, recorder(name, None))
        return module.freeze()

    module = sl.Module()
    for name, returns in RETURNING.items():
        module.add_callable(name, recorder(name, returns))
    for name in RECORDING_ONLY:
        module.add_callable(name, recorder(name, None))
    ast = sl.parse(str(tiltfile), tiltfile.read_text(), sl.Dialect.extended())
    sl.eval(module, ast, sl.Globals.standard(), sl.FileLoader(load_extension))
    return calls


if __name__ == "__main__":
    print(json.dumps({"calls": run(Path(sys.argv[1]))}))
