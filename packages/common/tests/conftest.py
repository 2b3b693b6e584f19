from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The audit log, backups and the LLM cache of the tests live in temporary folders, never the user's."""
    monkeypatch.setenv("CODEGEN_LAB_STATE_DIR", str(tmp_path_factory.mktemp("state")))
    monkeypatch.setenv("CODEGEN_LAB_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("CODEGEN_LAB_CONFIG", "")  # nor the user's own config file


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
