"""The grader as it was before grader v2, loaded from git history for side-by-side runs.

Benchmarks and evaluations report "old beside new" measured in one process.  Rather
than keep a second copy of the old code in the tree, the old modules are read from the
commit before the rewrite (``git show``) and executed as private modules.  Without git
history (an exported tarball) the old grader is simply unavailable and the rows say so.
"""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

COMMIT = "f1cf940"  # the last commit with grader v1 (similarity only)
REPO = Path(__file__).resolve().parents[1]


def _source(path: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), "show", f"{COMMIT}:{path}"], capture_output=True, text=True, check=True).stdout


def _module(name: str, source: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__file__ = f"<{COMMIT}:{name}>"
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    exec(compile(source, module.__file__, "exec"), module.__dict__)  # noqa: S102 - our own history
    return module


def load_grader(encoder: Any) -> Any | None:
    """The v1 ``Grader`` with its own calibration, or None when history is not available."""
    try:
        spoken = _module("legacy_spoken", _source("rubrics/spoken.py"))
        # The old grader's imports, moved since: its spoken module is the old one, and the
        # Encoder protocol now lives in core (viva.embedding became core.embedding).
        grader_src = (
            _source("rubrics/grader.py")
            .replace("from rubrics.spoken import", "from legacy_spoken import")
            .replace("from viva.embedding import", "from core.embedding import")
        )
        calibration = json.loads(_source("rubrics/calibration.json"))
    except (OSError, subprocess.CalledProcessError):
        return None
    del spoken
    legacy = _module("legacy_grader", grader_src)
    cal = legacy.Calibration(x=calibration["x"], y=calibration["y"], params=legacy.GraderParams(**calibration["params"]))
    return legacy.Grader(encoder, cal)
