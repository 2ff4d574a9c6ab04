"""Studio's front door: who may come in, and what a request may carry.

- Off loopback, every request must carry the token (EARMARK_STUDIO_TOKEN), as a bearer
  header or as the cookie that `?token=` sets once; without a token such an address is
  refused at start-up, before anything listens.
- On loopback, only loopback host names are answered, so a web page elsewhere can't reach
  Studio through a DNS name that resolves to 127.0.0.1.
- Every state-changing request carries the CSRF token each page holds, and an Origin, if
  the browser sends one, of Studio itself.
- A request body is cut off at MAX_BODY_BYTES: a rule file is at most 1 MiB.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from earmark.errors import BodyTooLarge, ConfigError

MAX_BODY_BYTES = 2 * 1024 * 1024
COOKIE = "earmark_studio"
CSRF_HEADER = "x-csrf-token"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "[::1]", "::1"}


def is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def require_token_off_loopback(host: str, token: str) -> None:
    if not is_loopback(host) and not token:
        raise ConfigError(
            f"Studio would listen on {host}, beyond this machine, with no token: "
            "set EARMARK_STUDIO_TOKEN, or listen on 127.0.0.1"
        )


class Guard:
    """ASGI middleware applying the rules above before any page or API sees a request."""

    def __init__(self, app: ASGIApp, *, token: str, loopback_only: bool) -> None:
        self.app = app
        self.token = token
        self.loopback_only = loopback_only
        self.csrf = secrets.token_urlsafe(32)  # one per process: pages embed it

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            await _answer(send, *refusal)
            return
        scope.setdefault("state", {})["csrf"] = self.csrf
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            await _answer(send, 413, f"a request may carry at most {MAX_BODY_BYTES:,} bytes")
            return
        if self.token and _query(scope).get("token"):
            send = self._setting_cookie(send)
        await self.app(scope, _capped(receive), send)

    def _setting_cookie(self, send: Send) -> Send:
        """`send`, adding the cookie that spares the token in every later address."""
        cookie = f"{COOKIE}={self.token}; HttpOnly; SameSite=Strict; Path=/".encode()

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"set-cookie", cookie)]
            await send(message)

        return sending

    def _refusal(self, scope: Scope, headers: dict[str, str]) -> tuple[int, str] | None:
        host = _host_name(headers.get("host", ""))
        if self.loopback_only and not is_loopback(host):
            return 421, "Studio answers only to localhost and 127.0.0.1"
        if self.token and not self._has_token(scope, headers):
            return 401, "this Studio needs its token: open it as /?token=..."
        if scope["method"] not in _SAFE_METHODS:
            if not hmac.compare_digest(headers.get(CSRF_HEADER, "").encode(), self.csrf.encode()):
                return 403, "this request did not come from a Studio page (no CSRF token); reload the page"
            origin = headers.get("origin")
            if origin and origin.split("://", 1)[-1] != headers.get("host"):
                return 403, f"a request from {origin} may not change Studio's files"
        return None

    def _has_token(self, scope: Scope, headers: dict[str, str]) -> bool:
        """Any of the ways a token comes will do: a cookie left from before the token
        changed must not refuse a right `?token=` (the answer then sets the new cookie)."""
        cookies = dict(
            part.strip().split("=", 1) for part in headers.get("cookie", "").split(";") if "=" in part
        )
        offered = [
            headers.get("authorization", "").removeprefix("Bearer ").strip(),
            cookies.get(COOKIE, ""),
            _query(scope).get("token", "") if scope["method"] == "GET" else "",
        ]
        return any(o and hmac.compare_digest(o.encode(), self.token.encode()) for o in offered)


def _query(scope: Scope) -> dict[str, str]:
    return dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))


def _host_name(host: str) -> str:
    """The name in a Host header, without its port: "127.0.0.1:8080" -> "127.0.0.1"."""
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0]


def _capped(receive: Receive) -> Receive:
    """`receive`, failing the request once its body passes MAX_BODY_BYTES (a client may
    send more than its Content-Length said, or send none)."""
    seen = 0

    async def capped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > MAX_BODY_BYTES:
                raise BodyTooLarge()
        return message

    return capped


async def _answer(send: Send, status: int, text: str) -> None:
    body = text.encode()
    headers: list[Any] = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
