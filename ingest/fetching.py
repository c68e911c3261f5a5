"""Fetch a URL for ingest without becoming a way into this machine's network.

A fetch is refused when the host is, or resolves to, an address that is not on the public internet: loopback,
private (RFC 1918, fc00::/7), link-local (cloud metadata at 169.254.169.254 included), CGNAT, multicast,
reserved or unspecified. Odd spellings of an IPv4 address (2130706433, 0177.0.0.1, 0x7f.1) and IPv6 forms that
carry an IPv4 address (::ffff:127.0.0.1, 6to4, NAT64) are read the way the network stack would read them.
The host name is resolved once, every address checked, and the connection made to the checked address with the
Host header and TLS server name kept (no DNS-rebinding gap between check and connect). Redirects are followed
here, not by a library, so each hop is checked the same way, up to a bounded count.

Every fetch has one deadline for the whole exchange (connect, headers, body: a server trickling bytes is cut
off when it passes), and every Fetcher one deadline for all its fetches (one ingest run). Bodies over the byte
limit are refused before they are read whole. Messages name the setting to change.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import quote, urljoin, urlsplit

from .decoding import Unreadable

__all__ = ["FetchPolicy", "Fetcher", "FetchError", "address_kind", "parse_allow"]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolve = Callable[[str, int], list[str]]

USER_AGENT = "newsrag/0.1"
_REDIRECTS = (301, 302, 303, 307, 308)
_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254"),
             ipaddress.ip_address("100.100.100.200")}  # AWS/GCP/Azure, AWS IPv6, Alibaba
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_ALLOW = "NEWSRAG_FETCH_ALLOW"


class FetchError(Unreadable):
    """A fetch that failed; str() is the one-line reason. `status` is the HTTP status when the server answered
    with an error, `transient` is True for timeouts and network errors (worth trying again later)."""

    def __init__(self, reason: str, *, status: int | None = None, transient: bool = False) -> None:
        super().__init__(reason)
        self.status = status
        self.transient = transient


def parse_allow(text: str | None) -> tuple[frozenset[str], tuple[Network, ...]]:
    """`"intranet.example, 10.0.0.0/8, 127.0.0.1"` -> (host names, networks). Raises ValueError on a bad range."""
    hosts: set[str] = set()
    networks: list[Network] = []
    for item in (text or "").replace(";", ",").split(","):
        item = item.strip().strip("[]")
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            if "/" in item or not all(c.isalnum() or c in "-._" for c in item):
                raise ValueError(f"{item!r} is neither a host name nor an address range like 10.0.0.0/8") from None
            hosts.add(item.lower().rstrip("."))
    return frozenset(hosts), tuple(networks)


def address_kind(address: Address) -> str | None:
    """What kind of non-public address this is ("loopback", "cloud metadata", ...), or None for a public one."""
    embedded = _embedded_v4(address)
    if embedded is not None:
        return address_kind(embedded)
    if address in _METADATA:
        return "cloud metadata"
    checks = (("unspecified", address.is_unspecified), ("loopback", address.is_loopback),
              ("link-local", address.is_link_local), ("multicast", address.is_multicast),
              ("carrier-grade NAT", isinstance(address, ipaddress.IPv4Address) and address in _CGNAT),
              ("reserved", address.is_reserved), ("private", address.is_private),
              ("non-public", not address.is_global))
    return next((name for name, hit in checks if hit), None)


def _embedded_v4(address: Address) -> ipaddress.IPv4Address | None:
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def literal_address(host: str) -> Address | None:
    """The address a host string spells, read as the C library would (decimal, octal, hex, short forms)."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefxABCDEFX." for c in host) and any(c.isdigit() for c in host):
        with contextlib.suppress(OSError):
            return ipaddress.IPv4Address(socket.inet_aton(host))
    head, colon, tail = host.rpartition(":")
    if colon and "." in tail and ":" in head:  # IPv6 with an IPv4 tail in a short form: "::ffff:127.1"
        v4 = literal_address(tail)
        if isinstance(v4, ipaddress.IPv4Address):
            with contextlib.suppress(ValueError):
                return ipaddress.ip_address(f"{head}:{v4}")
    return None


def _refusal(shown: str, kind: str, setting: str) -> str:
    return (f"refused: {shown} is a {kind} address, which newsrag does not fetch unless {_ALLOW} names it; to fetch "
            f"it, set {_ALLOW}={setting} (host names and ranges like 10.0.0.0/8, comma-separated)")


def system_resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


@dataclass(frozen=True)
class FetchPolicy:
    """What a Fetcher may do. Build it from Settings with `from_settings`; `resolve` is injectable for tests."""

    allow_hosts: frozenset[str] = frozenset()
    allow_networks: tuple[Network, ...] = ()
    timeout: float = 20.0  # seconds for one whole fetch, redirects included
    run_timeout: float = 600.0  # seconds for all fetches of one Fetcher (one ingest run)
    max_bytes: int = 10_000_000
    max_redirects: int = 5
    concurrency: int = 8  # feed entry pages fetched at once
    resolve: Resolve = field(default=system_resolve, compare=False)

    @classmethod
    def from_settings(cls, settings, **overrides) -> "FetchPolicy":
        hosts, networks = parse_allow(settings.fetch_allow)
        values = dict(allow_hosts=hosts, allow_networks=networks, timeout=settings.fetch_timeout,
                      run_timeout=settings.fetch_run_timeout, max_bytes=settings.max_input_bytes,
                      max_redirects=settings.fetch_max_redirects, concurrency=settings.fetch_concurrency)
        return cls(**{**values, **overrides})


class Fetcher:
    """`fetcher(url) -> (body, content_type)`; raises FetchError with a reason that says what to do.

    Thread-safe: feed entries are fetched from a pool. The run deadline starts when the Fetcher is made."""

    def __init__(self, policy: FetchPolicy | None = None) -> None:
        self.policy = policy or FetchPolicy()
        self.run_deadline = time.monotonic() + self.policy.run_timeout

    def __call__(self, url: str, timeout: float | None = None) -> tuple[bytes, str]:
        now = time.monotonic()
        if now >= self.run_deadline:
            raise FetchError(f"not fetched: this ingest has spent its NEWSRAG_FETCH_RUN_TIMEOUT="
                             f"{self.policy.run_timeout:g}s on fetching; run it again for the rest, or raise "
                             "NEWSRAG_FETCH_RUN_TIMEOUT", transient=True)
        limit = self.policy.timeout if timeout is None else min(timeout, self.policy.timeout)
        deadline = min(now + limit, self.run_deadline)
        for _hop in range(self.policy.max_redirects + 1):
            result = self._once(url, deadline, limit)
            if isinstance(result, tuple):
                return result
            url = result  # a redirect, checked on the next hop like the first
        raise FetchError(f"too many redirects (more than NEWSRAG_FETCH_MAX_REDIRECTS={self.policy.max_redirects}):"
                         " check the address, or raise NEWSRAG_FETCH_MAX_REDIRECTS")

    # -- one request -------------------------------------------------------------------------------------------
    def _once(self, url: str, deadline: float, limit: float) -> tuple[bytes, str] | str:
        try:
            parts = urlsplit(url)
        except ValueError as exc:  # Python refuses some bracketed hosts ("[::ffff:127.1]") before any check
            raise self._unparsable(url, exc) from None
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise FetchError(f"not fetched: {url[:200]} is not an http(s) URL; pass an http:// or https:// address")
        try:
            host = parts.hostname.encode("idna").decode("ascii")  # a non-ASCII name as DNS and Host spell it
            port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        except (UnicodeError, ValueError) as exc:
            raise FetchError(f"not fetched: {url[:200]} has an invalid host or port ({exc}); check the "
                             "address") from None
        addresses = self._checked(host, port)
        target = quote(parts.path or "/", safe="/%:@!$&'()*+,;=~") + (f"?{quote(parts.query, safe='=&%+/:;,@!$()*~?')}"
                                                                      if parts.query else "")
        last: Exception | None = None
        for address in addresses:
            try:
                return self._exchange(parts.scheme.lower(), host, port, address, target, url, deadline)
            except FetchError:
                raise
            except (OSError, http.client.HTTPException, ValueError) as exc:  # ValueError: a read on a cut socket
                last = exc
            if time.monotonic() >= deadline:
                break
        raise self._network_error(last, deadline, limit)

    def _checked(self, host: str, port: int) -> list[str]:
        """Resolve once and check every address; return those to connect to (the checked ones, nothing else)."""
        name = host.lower().rstrip(".")
        literal = literal_address(name)
        if literal is not None:
            addresses = [literal]
        else:
            try:
                addresses = [ipaddress.ip_address(a.split("%")[0]) for a in self.policy.resolve(name, port)]
            except (OSError, UnicodeError) as exc:
                detail = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
                raise FetchError(f"unreachable URL (cannot resolve {host}: {detail}): check the address or your "
                                 "network", transient=True) from None
            if not addresses:
                raise FetchError(f"unreachable URL (cannot resolve {host}): check the address", transient=True)
        if name in self.policy.allow_hosts:
            return [str(a) for a in addresses]
        for address in addresses:
            kind = address_kind(address)
            if kind and not self._allowed(address):
                shown = host if str(address) == name else f"{host} ({address})"
                raise FetchError(_refusal(shown, kind, name if literal is None else str(address)))
        return [str(a) for a in addresses]

    def _unparsable(self, url: str, exc: ValueError) -> FetchError:
        """The reason for a URL Python cannot split: the kind of address its bracketed host spells, if any."""
        m = re.match(r"(?i)^https?://(?:[^@/?#\[]*@)?\[([^\]/?#]*)\]", url)
        literal = literal_address(m.group(1).lower()) if m else None
        if literal is not None:
            kind = address_kind(literal)
            if kind and not self._allowed(literal):
                return FetchError(_refusal(f"{m.group(1)} ({literal})", kind, str(literal)))
            return FetchError(f"not fetched: {url[:200]} has an invalid host ({m.group(1)}); check the address: "
                              f"write it as [{literal}]")
        return FetchError(f"not fetched: {url[:200]} has an invalid host ({exc}); check the address")

    def _allowed(self, address: Address) -> bool:
        forms = [address] + ([e] if (e := _embedded_v4(address)) is not None else [])
        return any(form in network for form in forms for network in self.policy.allow_networks
                   if form.version == network.version)

    def _exchange(self, scheme: str, host: str, port: int, address: str, target: str, url: str,
                  deadline: float) -> tuple[bytes, str] | str:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("deadline passed")
        conn = _connection(scheme, host, port, address, remaining)
        watchdog = threading.Timer(remaining, _cut, (conn,))  # the whole exchange, however slowly bytes come
        watchdog.daemon = True
        watchdog.start()
        try:
            conn.request("GET", target, headers={"User-Agent": USER_AGENT, "Accept": "*/*",
                                                 "Accept-Encoding": "identity"})
            response = conn.getresponse()
            if response.status in _REDIRECTS and response.getheader("Location"):
                return urljoin(url, response.getheader("Location", "").strip())
            if response.status >= 400:
                raise FetchError(f"HTTP error {response.status} ({response.reason}) from URL: check the address",
                                 status=response.status)
            declared = response.getheader("Content-Length")
            if declared and declared.strip().isdigit() and int(declared) > self.policy.max_bytes:
                raise self._too_big()
            return self._body(conn, response, deadline), response.getheader("Content-Type", "") or ""
        finally:
            watchdog.cancel()
            conn.close()

    def _body(self, conn: http.client.HTTPConnection, response: http.client.HTTPResponse, deadline: float) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("deadline passed")
            if conn.sock is not None:
                conn.sock.settimeout(remaining)
            chunk = response.read1(65536)
            if not chunk:
                if time.monotonic() >= deadline:
                    raise TimeoutError("deadline passed")  # the watchdog cut it: not a complete body
                return b"".join(chunks)
            size += len(chunk)
            if size > self.policy.max_bytes:
                raise self._too_big()
            chunks.append(chunk)

    def _too_big(self) -> FetchError:
        mb = self.policy.max_bytes / 1_000_000
        return FetchError(f"too large: the response is over NEWSRAG_MAX_INPUT_BYTES={self.policy.max_bytes} "
                          f"({mb:g} MB); raise NEWSRAG_MAX_INPUT_BYTES to read it")

    def _network_error(self, exc: Exception | None, deadline: float, limit: float) -> FetchError:
        if time.monotonic() >= deadline - 0.05 or isinstance(exc, TimeoutError):
            if deadline >= self.run_deadline - 0.05 and time.monotonic() >= self.run_deadline - 0.05:
                return FetchError(f"unreachable URL (stopped when this ingest reached NEWSRAG_FETCH_RUN_TIMEOUT="
                                  f"{self.policy.run_timeout:g}s): run it again, or raise NEWSRAG_FETCH_RUN_TIMEOUT",
                                  transient=True)
            return FetchError(f"unreachable URL (no complete answer within {limit:g}s): check the address or "
                              "your network, or raise NEWSRAG_FETCH_TIMEOUT", transient=True)
        detail = (getattr(exc, "strerror", None) or str(exc) or type(exc).__name__) if exc else "no address"
        return FetchError(f"unreachable URL ({str(detail).lower()}): check the address or your network",
                          transient=True)


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to the address that was checked; the Host header still names the host."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """As _PinnedHTTP, with TLS: the certificate is checked against the host name (SNI), not the address."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _connection(scheme: str, host: str, port: int, address: str, timeout: float) -> http.client.HTTPConnection:
    kind = _PinnedHTTPS if scheme == "https" else _PinnedHTTP
    return kind(host, port, address, timeout)


def _cut(conn: http.client.HTTPConnection) -> None:
    """The deadline passed: shut the socket so a blocked read returns now (socket-level, also under TLS)."""
    sock = conn.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


def fetch_all(fetch: Callable[[str], object], urls: Iterable[str], concurrency: int) -> Iterable[object]:
    """Run `fetch` over `urls` with at most `concurrency` at once; yield results in input order (an exception
    is yielded as the value, not raised). Closing the iterator early cancels what has not started."""
    from concurrent.futures import ThreadPoolExecutor

    urls = list(urls)
    if not urls:
        return
    pool = ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(urls))), thread_name_prefix="newsrag-fetch")

    def safe(url: str) -> object:
        try:
            return fetch(url)
        except Exception as exc:  # handed to the caller in order, as a value
            return exc

    try:
        for future in [pool.submit(safe, url) for url in urls]:
            yield future.result()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
