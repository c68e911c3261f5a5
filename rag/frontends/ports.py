"""Is a port free to listen on? Checked before the web chat loads anything, so a busy port is a one-line error
that names the flag and the setting to change, not a traceback after the whole start-up."""

from __future__ import annotations

import errno
import socket

from rag.core.errors import SettingsError

__all__ = ["check_port_free", "port_in_use"]


def port_in_use(host: str, port: int) -> bool:
    """True when something already listens on host:port (binding it fails with "address in use").

    Port 0 (any free port) is never in use. Bound the way the web server binds (SO_REUSEADDR), so a port left
    in TIME_WAIT by a server that just stopped is not called busy."""
    if not port:
        return False
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        return False  # an unknown host name: the web server reports it itself
    for family, kind, proto, _, address in infos:
        with socket.socket(family, kind, proto) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    return True
    return False


def check_port_free(host: str, port: int) -> None:
    """Raise a SettingsError that says which flag and setting pick another port when host:port is taken."""
    if port_in_use(host, port):
        raise SettingsError(
            f"Port {port} on {host} is already in use (another `newsrag serve` or another program). Stop it, or "
            f"pick a free port: `newsrag serve --port {_suggest(host, port)}` (or `python app.py --port N`, or "
            "set NEWSRAG_PORT / GRADIO_SERVER_PORT).")


def _suggest(host: str, port: int) -> int:
    """The next free port above this one (a few tried), for the message; the asked one plus one otherwise."""
    for candidate in range(port + 1, min(port + 20, 65536)):
        if not port_in_use(host, candidate):
            return candidate
    return min(port + 1, 65535)
