"""Every daphne/Twisted/autobahn internal realtime.runtime reads or overrides, still there
with the shape it was written against, on the installed versions (one test each).

A failure here means a library changed under the runtime: read the internal again,
adapt realtime.runtime, then bump realtime.runtime.versions.TESTED_VERSIONS. What each one
buys, and the behaviour over real sockets, is in realtime/runtime/README.md and the tests
it names.
"""

from __future__ import annotations

# isort: off
# daphne.server installs Twisted's asyncio reactor: before anything imports the reactor.
import daphne.server

# isort: on
import hashlib
import inspect
import re
from collections.abc import Callable
from importlib import metadata

import pytest
from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from autobahn.websocket.protocol import WebSocketProtocol as AutobahnProtocol
from autobahn.websocket.protocol import WebSocketServerProtocol as AutobahnServerProtocol
from channels.layers import InMemoryChannelLayer as ChannelsInMemoryChannelLayer
from daphne import utils
from daphne.access import AccessLogGenerator
from daphne.endpoints import build_endpoint_description_strings
from daphne.http_protocol import HTTPFactory, WebRequest
from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol
from twisted.internet import abstract, tcp
from twisted.web import http

from realtime.delivery.memorylayer import InMemoryChannelLayer
from realtime.runtime import versions
from realtime.runtime.wire import TravaServer

Server = daphne.server.Server


def params(callable_: Callable[..., object]) -> list[str]:
    return list(inspect.signature(callable_).parameters)


def source(callable_: Callable[..., object]) -> str:
    return inspect.getsource(callable_)


def sha(callable_: Callable[..., object]) -> str:
    return hashlib.sha256(source(callable_).encode()).hexdigest()[:16]


# --- daphne ----------------------------------------------------------------------------------
def test_daphne_server_create_application() -> None:
    # TravaServer.create_application is a copy of this one (InputQueue, the writer in the
    # scope): any change upstream must be read and copied.
    assert params(Server.create_application) == ["self", "protocol", "scope"]
    assert sha(Server.create_application) == "f1e300b4ecf636c8"
    assert "create_application" in vars(TravaServer)


def test_daphne_server_handle_reply() -> None:
    # The ASGI send TravaServer hands the application: partial(handle_reply, protocol).
    assert params(Server.handle_reply) == ["self", "protocol", "message"]


def test_daphne_server_factories_and_connections() -> None:
    # Set by Server.run before the ready callable: the runtime reads them from there.
    run = source(Server.run)
    assert "self.connections = {}" in run
    assert "self.http_factory = HTTPFactory(self)" in run
    assert "self.ws_factory = WebSocketFactory(" in run
    assert run.index("self.ready_callable()") < run.index("reactor.run(")


def test_daphne_server_protocol_disconnected() -> None:
    # TravaServer.open_websockets counts connections without a "disconnected" time.
    assert '["disconnected"] = time.time()' in source(Server.protocol_disconnected)


def test_daphne_ws_protocol_server_close() -> None:
    assert params(WebSocketProtocol.serverClose) == ["self", "code"]
    assert 'self.serverClose(code=message.get("code", None))' in source(WebSocketProtocol.handle_reply)


def test_daphne_ws_protocol_raw_query_string() -> None:
    # Set by the upgrade fast path, as daphne's WebRequest.process sets it.
    assert '"query_string": self._raw_query_string' in source(WebSocketProtocol.onConnect)
    assert "protocol._raw_query_string = self.query_string" in source(WebRequest.process)


def test_daphne_ws_factory_build_protocol() -> None:
    assert params(WebSocketFactory.buildProtocol) == ["self", "addr"]
    assert WebSocketFactory.protocol is WebSocketProtocol  # replaced by the runtime's subclass


def test_daphne_http_factory_build_protocol() -> None:
    assert params(HTTPFactory.buildProtocol) == ["self", "addr"]
    assert "protocol.requestFactory = WebRequest" in source(HTTPFactory.buildProtocol)


def test_daphne_web_request_body_callbacks() -> None:
    # Overridden by the body-size guard; called by Twisted's channel in this order.
    assert params(WebRequest.gotLength) == ["self", "length"]
    assert params(WebRequest.handleContentChunk) == ["self", "data"]
    assert params(WebRequest.process) == ["self"]
    channel = source(http.HTTPChannel)
    assert "req.gotLength(self.length)" in channel
    assert "self.requests[-1].handleContentChunk" in channel
    assert "self.content = " in source(http.Request.gotLength)


def test_daphne_utils_header_checks() -> None:
    # The upgrade fast path applies these to every header line, as WebRequest.process does.
    assert isinstance(utils.HEADER_NAME_RE, re.Pattern)
    assert isinstance(utils.INVALID_HEADER_VALUE_BYTES, (set, frozenset))
    process = source(WebRequest.process)
    assert "HEADER_NAME_RE.fullmatch(name)" in process
    assert "INVALID_HEADER_VALUE_BYTES.intersection(value)" in process


def test_daphne_access_log_call() -> None:
    assert params(AccessLogGenerator.__call__) == ["self", "protocol", "action", "details"]
    assert "self.action_logger(protocol, action, details)" in source(Server.log_action)


def test_daphne_server_abort_start() -> None:
    # serve exits 1 when a listener failed (daphne sets it instead of running).
    assert "self.abort_start = True" in source(Server.stop)
    assert "if not self.abort_start:" in source(Server.run)


def test_daphne_endpoint_descriptions() -> None:
    # serve appends `:backlog=N` to each description daphne builds.
    assert params(build_endpoint_description_strings) == ["host", "port", "unix_socket", "file_descriptor"]
    assert build_endpoint_description_strings(host="127.0.0.1", port=8000) == [
        "tcp:port=8000:interface=127.0.0.1"
    ]


# --- Twisted ---------------------------------------------------------------------------------
def test_twisted_file_descriptor_buffers() -> None:
    # Direct writes and the slow-consumer close read and reset these.
    init, write = source(abstract.FileDescriptor.__init__), source(abstract.FileDescriptor.write)
    assert "self._tempDataBuffer: list[bytes] = []" in init
    assert "self._tempDataLen = 0" in init
    assert "self._tempDataBuffer.append(data)" in write
    assert abstract.FileDescriptor.dataBuffer == b"" and abstract.FileDescriptor.offset == 0
    assert {"connected", "disconnecting"} <= set(vars(abstract.FileDescriptor))


def test_twisted_tcp_write_some_data() -> None:
    # send_now does what writeSomeData does, on the same socket, and uses its buffers after.
    assert params(tcp.Connection.writeSomeData) == ["self", "data"]
    assert "self.socket.send" in source(tcp.Connection.writeSomeData)
    assert "self.socket: socket.socket = skt" in source(tcp.Connection.__init__)
    assert params(abstract.FileDescriptor.startWriting) == ["self"]


def test_twisted_tcp_no_delay() -> None:
    assert params(tcp.Connection.setTcpNoDelay) == ["self", "enabled"]


def test_twisted_http_channel_producer_and_timer() -> None:
    # After daphne's upgrade the channel stays the transport's producer with its timer.
    made = source(http.HTTPChannel.connectionMade)
    assert "self.setTimeout(self.timeOut)" in made
    assert ".registerProducer(self, True)" in made
    assert params(http.HTTPChannel.setTimeout) == ["self", "period"]
    assert "producer" in vars(abstract.FileDescriptor)  # the transport's registered producer
    assert params(tcp.Connection.unregisterProducer) == ["self"]


# --- autobahn --------------------------------------------------------------------------------
def test_autobahn_config_attrs() -> None:
    # Copied onto every instance unless the class has them: configure() sets them once.
    assert "if not hasattr(self, configAttr):" in source(AutobahnProtocol._connectionMade)
    factory = WebSocketServerFactory()
    assert all(hasattr(factory, attr) for attr in WebSocketServerProtocol.CONFIG_ATTRS)


def test_autobahn_send_close_frame() -> None:
    assert params(AutobahnProtocol.sendCloseFrame) == ["self", "code", "reasonUtf8", "isReply"]
    assert "self.closeHandshakeTimeout" in source(AutobahnProtocol.sendCloseFrame)
    with pytest.raises(Exception, match="invalid close code"):  # why serverClose is overridden
        AutobahnProtocol.sendClose(AutobahnProtocol(), code=1012)


def test_autobahn_send_data() -> None:
    assert params(AutobahnProtocol.sendData) == ["self", "data", "sync", "chopsize"]
    assert "len(self.send_queue) > 0" in source(AutobahnProtocol.sendData)


def test_autobahn_and_daphne_read_the_handshake_leftovers_only_in_the_handshake() -> None:
    # TravaWebSocketProtocol.onOpen drops them: nothing may read them after the handshake.
    classes = (AutobahnProtocol, AutobahnServerProtocol, WebSocketServerProtocol, WebSocketProtocol)
    readers: dict[str, set[str]] = {}
    dropped = (
        *("http_headers", "http_request_data", "http_response_data", "http_request_params"),
        *("websocket_protocols", "clean_headers", "request.headers", ".params", ".protocols"),
    )
    for attr in dropped:
        readers[attr] = {
            name
            for cls in classes
            for name, member in vars(cls).items()
            if inspect.isfunction(member) and attr in source(member)
        }
    assert readers == {
        "http_headers": {"processHandshake"},
        "http_request_data": {"processHandshake"},
        "http_response_data": {"succeedHandshake"},
        "http_request_params": {"processHandshake"},
        "websocket_protocols": {"processHandshake", "succeedHandshake"},
        "clean_headers": {"onConnect"},
        "request.headers": {"onConnect"},
        ".params": set(),
        ".protocols": set(),
    }
    assert "self.request = request" in source(WebSocketProtocol.onConnect)


def test_autobahn_state_open() -> None:
    assert WebSocketProtocol.STATE_OPEN == AutobahnProtocol.STATE_OPEN


def test_autobahn_fail_by_drop() -> None:
    assert "failByDrop" in inspect.signature(WebSocketServerFactory.setProtocolOptions).parameters


def test_the_installed_versions_are_the_tested_ones() -> None:
    # The internals above were read on these: a new pin must update TESTED_VERSIONS too.
    assert versions.untested_versions() == {}


def test_channels_in_memory_layer_sweep_and_group_send() -> None:
    # realtime.delivery.memorylayer throttles this sweep and sends a group's messages in
    # turn: both read against channels 4.3.2 (requirements.txt).
    assert metadata.version("channels") == "4.3.2"
    layer = ChannelsInMemoryChannelLayer
    assert params(layer._clean_expired) == ["self"]
    assert "self._clean_expired()" in source(layer.receive)
    assert "self._clean_expired()" in source(layer.group_send)
    assert "self.groups[group].keys()" in source(layer.group_send)
    assert "except ChannelFull" in source(layer.group_send)
    assert "deepcopy(message)" in source(layer.send)


async def test_the_in_memory_layer_still_expires_and_fans_out() -> None:
    layer = InMemoryChannelLayer(expiry=60, capacity=2)
    channels = [await layer.new_channel() for _ in range(3)]
    for channel in channels:
        await layer.group_add("room.1", channel)
    message = {"type": "room.event", "text": "x"}
    await layer.group_send("room.1", message)
    await layer.group_send("room.1", message)
    await layer.group_send("room.1", message)  # over capacity: dropped, as channels does
    for channel in channels:
        assert await layer.receive(channel) == message
        assert await layer.receive(channel) == message
        assert channel not in layer.channels or layer.channels[channel].empty()
    layer.expiry = -1  # every message sent now is already expired
    await layer.send(channels[0], message)
    layer._next_sweep = 0.0  # the next sweep is due
    await layer.group_send("room.2", message)  # a sweep: the expired message goes...
    assert channels[0] not in layer.channels
    assert channels[0] not in layer.groups["room.1"]  # ...and its channel leaves its groups
