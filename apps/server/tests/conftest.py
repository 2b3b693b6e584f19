"""The shared fixtures: state and caches in temporary folders, anyio on asyncio, the Hypothesis profile."""

from codegen_lab.common.testing import anyio_backend, isolated_state  # noqa: F401 (the shared fixtures)
