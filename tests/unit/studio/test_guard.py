"""Studio writes the files that decide what shoppers see, so its front door is tested:
the token off loopback, CSRF, foreign hosts and origins, paths out of the pack, and bodies
past the limit (a chunked one over a real uvicorn connection). Each refused request
writes nothing."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from earmark.cli import main
from earmark.errors import ConfigError
from earmark.studio.guard import COOKIE, MAX_BODY_BYTES, require_token_off_loopback

from conftest import LiveStudio, start_studio


def _put(studio: LiveStudio, path: str, text: str, **headers: str) -> int:
    with studio.client() as client:
        return client.put(f"/api/files/{path}", json={"text": text}, headers=headers).status_code


def test_a_save_with_the_pages_csrf_token_writes_the_file_atomically(running_studio: LiveStudio) -> None:
    text = (running_studio.working / "talking.yaml").read_text() + "# saved from Studio\n"
    assert 200 == _put(running_studio, "talking.yaml", text, **{"X-CSRF-Token": running_studio.csrf})
    assert text == (running_studio.working / "talking.yaml").read_text()
    assert [] == [p.name for p in running_studio.working.iterdir() if p.name.startswith(".")]  # no temp left


def test_without_the_csrf_token_nothing_changes(running_studio: LiveStudio) -> None:
    before = (running_studio.working / "talking.yaml").read_text()
    assert 403 == _put(running_studio, "talking.yaml", "rules: []\n")
    assert 403 == _put(running_studio, "talking.yaml", "rules: []\n", **{"X-CSRF-Token": "guessed"})
    with running_studio.client() as client:
        assert 403 == client.post("/publish", content="who=x&summary=y").status_code
    assert before == (running_studio.working / "talking.yaml").read_text()


def test_a_request_from_another_origin_is_refused_even_with_the_token(running_studio: LiveStudio) -> None:
    headers = {"X-CSRF-Token": running_studio.csrf, "Origin": "http://evil.example"}
    assert 403 == _put(running_studio, "talking.yaml", "rules: []\n", **headers)


def test_a_foreign_host_name_is_not_answered_on_loopback(running_studio: LiveStudio) -> None:
    # A DNS name pointing at 127.0.0.1 (DNS rebinding) must not reach the pack.
    with running_studio.client() as client:
        assert 421 == client.get("/", headers={"Host": "attacker.example:8080"}).status_code
        assert 200 == client.get("/static/studio.css").status_code


@pytest.mark.parametrize(
    "path",
    [
        "../live/talking.yaml",
        "..%2flive%2ftalking.yaml",
        "/etc/passwd",
        "talking.py",
        ".hidden.yaml",
        "schemas/rules.schema.json",
    ],
)
def test_paths_out_of_the_pack_or_not_rule_files_are_refused(running_studio: LiveStudio, path: str) -> None:
    before = sorted(p.name for p in running_studio.live.iterdir())
    status = _put(running_studio, path, "rules: []\n", **{"X-CSRF-Token": running_studio.csrf})
    assert status in (403, 404), status
    assert before == sorted(p.name for p in running_studio.live.iterdir())
    assert "rules: []" not in (running_studio.live / "talking.yaml").read_text()


def test_a_symlink_out_of_the_pack_is_neither_read_nor_written(
    running_studio: LiveStudio, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("secret: 1\n")
    (running_studio.working / "link.yaml").symlink_to(outside)
    assert 403 == _put(running_studio, "link.yaml", "rules: []\n", **{"X-CSRF-Token": running_studio.csrf})
    with running_studio.client() as client:
        assert 403 == client.get("/api/files/link.yaml").status_code
    assert "secret: 1\n" == outside.read_text()


def test_an_oversized_body_is_refused_before_it_is_read(running_studio: LiveStudio) -> None:
    huge = "#" * (MAX_BODY_BYTES + 10)
    assert 413 == _put(running_studio, "talking.yaml", huge, **{"X-CSRF-Token": running_studio.csrf})


def test_a_body_longer_than_its_content_length_says_is_cut_off(studio_over_http: LiveStudio) -> None:
    # Chunked, with no Content-Length, on a real connection: the cap must hold while reading.
    running_studio = studio_over_http
    host, port = running_studio.url.removeprefix("http://").split(":")
    chunk = b"#" * 65536
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(
            f"PUT /api/files/talking.yaml HTTP/1.1\r\nHost: {host}:{port}\r\nX-CSRF-Token: {running_studio.csrf}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        try:
            for _ in range(MAX_BODY_BYTES // len(chunk) + 2):
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may stop reading once it has refused
        answer = sock.recv(200)
    assert answer.startswith(b"HTTP/1.1 413"), answer


def test_an_address_beyond_loopback_needs_a_token() -> None:
    with pytest.raises(ConfigError, match="EARMARK_STUDIO_TOKEN"):
        require_token_off_loopback("0.0.0.0", "")
    require_token_off_loopback("0.0.0.0", "s3cret")  # allowed with one
    require_token_off_loopback("127.0.0.1", "")
    result = CliRunner().invoke(main, ["studio", "--address", "0.0.0.0:0"], env={"EARMARK_STUDIO_TOKEN": ""})
    assert 2 == result.exit_code
    assert "set EARMARK_STUDIO_TOKEN" in result.output


@pytest.fixture
def token_studio(tmp_path: Path) -> Iterator[LiveStudio]:
    yield from start_studio(tmp_path, token="s3cret-token", loopback_only=False)


def test_with_a_token_every_request_must_carry_it(token_studio: LiveStudio) -> None:
    with token_studio.client() as client:
        assert 401 == client.get("/").status_code
        assert 401 == client.get("/", headers={"Authorization": "Bearer wrong"}).status_code
        assert 200 == client.get("/", headers={"Authorization": "Bearer s3cret-token"}).status_code
    with token_studio.client() as browser:  # a browser opens /?token= once, then has the cookie
        first = browser.get("/?token=s3cret-token")
        assert 200 == first.status_code and "HttpOnly" in first.headers["set-cookie"]
        assert 200 == browser.get("/rules").status_code
        # The token is not the CSRF token: a save still needs the page's.
        assert 403 == browser.put("/api/files/talking.yaml", json={"text": "rules: []\n"}).status_code


def test_a_cookie_from_before_the_token_changed_does_not_refuse_the_new_token(
    token_studio: LiveStudio,
) -> None:
    """Was: the old cookie was the only thing read, so a right `?token=` answered 401."""
    with token_studio.client(cookies={COOKIE: "the-old-token"}) as browser:
        assert 401 == browser.get("/rules").status_code
        opened = browser.get("/?token=s3cret-token")
        assert 200 == opened.status_code and "s3cret-token" in opened.headers["set-cookie"]
