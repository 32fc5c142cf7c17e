"""Where viva keeps its data and caches.

Data (transcripts, user notes, settings) is precious and lives in the user data dir;
caches (the dense copy of the LLM, embeddings, FAISS indexes) can be deleted at any
time and live in the user cache dir.  Both follow the platform's conventions through
platformdirs and can be overridden with environment variables, which is also how the
``--data-dir`` flag reaches every layer (the CLI sets ``VIVA_DATA_DIR``).
"""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_dir, user_data_dir

APP_NAME = "viva"
DATA_ENV = "VIVA_DATA_DIR"
CACHE_ENV = "VIVA_CACHE_DIR"


def data_dir() -> Path:
    """The user data dir (created on demand): ``$VIVA_DATA_DIR`` or the platform default."""
    root = Path(os.environ.get(DATA_ENV) or user_data_dir(APP_NAME, appauthor=False))
    root.mkdir(parents=True, exist_ok=True)
    return root


def cache_dir(*parts: str) -> Path:
    """A folder under the user cache dir (created on demand): ``$VIVA_CACHE_DIR`` or the default."""
    root = Path(os.environ.get(CACHE_ENV) or user_cache_dir(APP_NAME, appauthor=False))
    path = root.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
