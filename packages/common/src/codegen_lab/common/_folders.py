"""Where Codegen Lab keeps its state (journal, backups, audit log) and its caches, when the settings do not say."""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["default_cache_dir", "default_state_dir"]


def default_state_dir() -> Path:
    """`CODEGEN_LAB_STATE_DIR`, else `$XDG_STATE_HOME/codegen-lab`, else `~/.local/state/codegen-lab`."""
    explicit = os.environ.get("CODEGEN_LAB_STATE_DIR")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "codegen-lab"


def default_cache_dir() -> Path:
    """`CODEGEN_LAB_CACHE_DIR`, else the platform's cache folder for codegen-lab."""
    explicit = os.environ.get("CODEGEN_LAB_CACHE_DIR")
    if explicit:
        return Path(explicit)
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "codegen-lab"
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", Path.home())) / "codegen-lab" / "Cache"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "codegen-lab"
