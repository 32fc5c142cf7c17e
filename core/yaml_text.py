"""YAML parsing for the rubric bank and the primer's front matter, with libyaml when present.

Why: PyYAML's pure-Python parser took 0.5-0.6 s of every start to read the 35 rubric
files (measured on 2 cores); its C binding (``CSafeLoader``, in PyYAML's wheels) reads the
same documents into the same Python objects in a tenth of that.  Errors are the same
``yaml.YAMLError`` types with the same ``problem_mark``, so messages that name a file's
line still do.
"""

from __future__ import annotations

from typing import Any

import yaml

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    """``yaml.safe_load``, through libyaml where PyYAML was built with it."""
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader, C or Python
