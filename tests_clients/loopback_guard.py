"""No network but loopback: every name lookup or connection to anything else fails, and is
recorded for the test that made it (conftest.py's autouse fixture fails that test)."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

__all__ = ["NetworkAttemptError", "install", "take_attempts"]


class NetworkAttemptError(OSError):
    """A client tried to reach something that is not on loopback."""


#: Every attempt since the last take_attempts() (collection-time imports included).
_attempts: list[str] = []
_real_connect = socket.socket.connect
_real_getaddrinfo = socket.getaddrinfo


def _is_loopback(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: Any) -> None:
    if self.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0] if isinstance(address, tuple) else address
        if not _is_loopback(host):
            _attempts.append(f"connect {address!r}")
            raise NetworkAttemptError(f"no network in make test-clients: connect {address!r}")
    _real_connect(self, address)


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if host is not None and not _is_loopback(host):
        _attempts.append(f"lookup {host!r}")
        raise socket.gaierror(socket.EAI_NONAME, f"no network in make test-clients: {host!r}")
    return _real_getaddrinfo(host, *args, **kwargs)


def install() -> None:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.getaddrinfo = _guarded_getaddrinfo


def take_attempts() -> list[str]:
    """The attempts recorded so far; the record is emptied."""
    taken = list(_attempts)
    del _attempts[:]
    return taken
