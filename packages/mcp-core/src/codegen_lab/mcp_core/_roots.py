"""The roots each client declared, and the check of a tool call's declared path and revision arguments."""

from __future__ import annotations

import logging
import warnings
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import unquote, urlparse

import anyio

from codegen_lab.common.errors import UsageError
from codegen_lab.common.guard import AllowedRoots, check_revision

if TYPE_CHECKING:
    from codegen_lab.mcp_core._toolkit import ToolSpec

__all__ = ["ClientRoots", "check_arguments"]

logger = logging.getLogger(__name__)

_ASK_TIMEOUT = 10.0


class ClientRoots:
    """The allowed roots of each client connection: the server's root, narrowed by the roots the client declares.

    A client that declares the roots capability is asked (`roots/list`) on its first call that names a path and
    again after it sends `notifications/roots/list_changed`; one that does not, that lists no roots, or that cannot
    be asked (no back-channel, as over stateless HTTP), is held to the server's root.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._known: dict[int, tuple[weakref.ref[object], tuple[Path, ...] | None]] = {}
        """By the `id` of a connection's client capabilities (a pydantic model cannot be hashed): a weak reference
        to them, which drops the entry when the connection goes, and the roots the client listed."""

    def forget(self) -> None:
        """Ask every client again on its next call (a client said its roots changed)."""
        self._known.clear()

    async def allowed(self, context: Any) -> AllowedRoots:
        """The allowed roots for the client of this request context.

        Raises:
            UsageError: When the client declares roots but does not list them in time, or lists a root that is
                not a `file://` URI.
        """
        session: object = getattr(context, "session", None)
        if session is None:
            return AllowedRoots(self.root)
        capabilities: object = getattr(session, "client_capabilities", None)
        if capabilities is None or getattr(capabilities, "roots", None) is None:
            return AllowedRoots(self.root)
        # The session is built anew for each request; the capabilities the client declared are one object for the
        # whole connection (held by it, dropped with it), so they key what this connection's client listed.
        key = id(capabilities)
        known = self._known.get(key)
        if known is None or known[0]() is not capabilities:
            listed = await self._ask(session)
            self._known[key] = (weakref.ref(capabilities, self._drop), listed)
            return AllowedRoots(self.root, listed)
        return AllowedRoots(self.root, known[1])

    def _drop(self, gone: weakref.ref[object]) -> None:
        """A connection ended: forget what its client listed."""
        for key, (ref, _) in list(self._known.items()):
            if ref is gone:
                del self._known[key]

    async def _ask(self, session: Any) -> tuple[Path, ...] | None:
        try:
            with anyio.fail_after(_ASK_TIMEOUT), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # roots are deprecated from protocol 2026-07-28 on
                result = await session.list_roots()
        except TimeoutError:
            raise UsageError(
                f"the client declares roots but did not answer roots/list within {_ASK_TIMEOUT:.0f} s",
                hint="Check the client's roots support, or connect without declaring the roots capability",
            ) from None
        except Exception as exc:  # no back-channel (stateless HTTP), or an error answer
            logger.debug("roots/list failed (%s); the server's root alone applies", exc)
            return None
        folders: list[Path] = []
        for root in result.roots:
            uri = urlparse(str(root.uri))
            if uri.scheme != "file":
                raise UsageError(f"the client's root {root.uri} is not a file:// URI")
            folders.append(Path(unquote(uri.path)))
        return tuple(folders) or None  # a client with no folder open (the MCP Inspector) narrows nothing


async def check_arguments(roots: ClientRoots, context: Any, arguments: Mapping[str, Any], spec: ToolSpec) -> None:
    """Refuse a call whose declared path arguments leave the allowed roots or whose revisions look like options.

    Values of other types are left to the tool's argument validation.

    Raises:
        UsageError: Naming the argument and the value.
    """
    for name in spec.revisions:
        value = arguments.get(name)
        if isinstance(value, str):
            check_revision(value, name)
    present = [
        (name, follow)
        for names, follow in ((spec.paths, True), (spec.programs, False))
        for name in names
        if arguments.get(name) is not None
    ]
    if not present:
        return
    allowed = await roots.allowed(context)
    for name, follow in present:
        value = arguments[name]
        if isinstance(value, str):
            allowed.resolve(value, name, follow_links=follow)
        elif isinstance(value, list):
            for index, item in enumerate(cast("list[object]", value)):
                if isinstance(item, str):
                    allowed.resolve(item, f"{name}[{index}]", follow_links=follow)
