"""Studio's HTTP connections, guarded against slow clients (slowloris).

uvicorn waits for a request's headers as long as the client keeps sending, and Studio's
token check can only run once they are complete; 70 clients trickling headers held every
connection uvicorn allows, and each other request got 503. So each connection must finish
its request's headers within HEADER_SECONDS (the same again for each request it keeps
alive for), and one client address holds at most CONNECTIONS_PER_CLIENT connections; a
browser tab uses six.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_SECONDS = 10.0
CONNECTIONS_PER_CLIENT = 16
TOO_MANY = b"HTTP/1.1 429 Too Many Requests\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


def guarded_protocol(
    header_seconds: float = HEADER_SECONDS, per_client: int = CONNECTIONS_PER_CLIENT
) -> type[H11Protocol]:
    """uvicorn's h11 protocol with both guards; the count of each client's connections
    belongs to the server that uses the class."""
    open_by_client: Counter[str] = Counter()

    class Guarded(H11Protocol):
        _header_timer: asyncio.TimerHandle | None = None
        _client_key: str | None = None  # set once the connection is counted

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            key = self.client[0] if self.client else ""
            if open_by_client[key] >= per_client:
                transport.write(TOO_MANY)
                transport.close()
                return
            open_by_client[key] += 1
            self._client_key = key
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
            if self._client_key is not None:
                open_by_client[self._client_key] -= 1
                if not open_by_client[self._client_key]:
                    del open_by_client[self._client_key]
                self._client_key = None
            super().connection_lost(exc)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm()  # the next request on this connection gets the same time

        def _arm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
            self._header_timer = self.loop.call_later(header_seconds, self._headers_due)

        def _headers_due(self) -> None:
            self._header_timer = None
            # IDLE: no request's headers are complete yet (a request being served has moved on).
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.close()

    return Guarded
