"""daphne's header checks on `/ws`, kept by the upgrade fast path (issue 12).

Raw TCP upgrade requests, sent in one write as a browser does, so they take the fast path
(realtime.runtime.upgrade.UpgradeSniffer) on a node running the tested versions (on any
other, tests/runtime/test_versions.py). A header value
holding one of daphne's refused bytes (daphne.utils.INVALID_HEADER_VALUE_BYTES) or a
header name outside daphne's HEADER_NAME_RE must get daphne's 400, never a 101.
(autobahn 26.11's own strict header parser already refuses all but \x85, which is
obs-text to it: before this check, `X-Probe: a\x85Origin: ...` was switched, 101.)
"""

from __future__ import annotations

import base64
import os
import socket

import pytest
from daphne.utils import INVALID_HEADER_VALUE_BYTES

from tests.conftest import access_token
from tests.servers import DaphneNode

pytestmark = pytest.mark.django_db(transaction=True)


def raw_upgrade(node: DaphneNode, token: str, extra: bytes = b"", path: bytes = b"/ws") -> bytes:
    """The response head the server sends to one upgrade request (b"" if it just closes)."""
    key = base64.b64encode(os.urandom(16))
    request = (
        b"GET " + path + b"?token=" + token.encode() + b" HTTP/1.1\r\n"
        b"Host: 127.0.0.1:" + str(node.port).encode() + b"\r\n"
        b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n" + extra + b"\r\n"
    )
    with socket.create_connection(("127.0.0.1", node.port), timeout=10) as sock:
        sock.sendall(request)
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                break
            head += chunk
    return head


def status_of(head: bytes) -> int:
    assert head.startswith(b"HTTP/1.1 "), head
    return int(head[9:12])


@pytest.fixture
def token(user_factory) -> str:  # type: ignore[no-untyped-def]
    return access_token(user_factory(username="upgrader"))


BAD_VALUES = sorted(INVALID_HEADER_VALUE_BYTES)


@pytest.mark.parametrize("byte", BAD_VALUES, ids=[f"0x{b:02x}" for b in BAD_VALUES])
@pytest.mark.parametrize("header", [b"X-Probe", b"User-Agent", b"Sec-WebSocket-Protocol"])
def test_an_upgrade_with_a_refused_byte_in_a_header_value_gets_daphnes_400(
    daphne_server: DaphneNode, token: str, byte: int, header: bytes
) -> None:
    # Shaped as an injection: a parser that splits lines on the byte sees a second header.
    head = raw_upgrade(
        daphne_server, token, header + b": a" + bytes([byte]) + b"Origin: http://evil.example\r\n"
    )
    assert status_of(head) == 400, head
    assert b"upgrade: websocket" not in head.lower()


@pytest.mark.parametrize("name", [b"X(Probe)", b"X-Pro\x85be", b"X/Probe", b"X@Probe"])
def test_an_upgrade_with_an_invalid_header_name_gets_daphnes_400(
    daphne_server: DaphneNode, token: str, name: bytes
) -> None:
    head = raw_upgrade(daphne_server, token, name + b": 1\r\n")
    assert status_of(head) == 400, head


def test_a_normal_upgrade_is_switched(daphne_server: DaphneNode, token: str) -> None:
    head = raw_upgrade(daphne_server, token, b"User-Agent: Mozilla/5.0 (X11; \xc3\xa9t\xc3\xa9)\r\n")
    assert status_of(head) == 101, head
    assert "internals off" not in daphne_server.log()  # the fast path took it
