#!/usr/bin/env python3
"""Writes the seed corpus of each fuzz target into corpus/<target>/: real Engine.IO v4 and
Socket.IO v5 packets from the protocol documents, WebSocket frames as clients mask them,
Redis adapter messages as notepack.io encodes them, and the edge cases next to them. Run it again after changing a seed; the files are checked in."""
import json
import pathlib
import shutil
import struct

here = pathlib.Path(__file__).resolve().parent

PLACEHOLDER0 = '{"_placeholder":true,"num":0}'
PLACEHOLDER1 = '{"_placeholder":true,"num":1}'
OPEN = ('0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,'
        '"pingTimeout":20000,"maxPayload":1000000}')

# Engine.IO: one text frame, or a long-polling payload (items joined by \x1e, binary ones as
# `b<base64>`). https://socket.io/docs/v4/engine-io-protocol/
engineio = {
    "open": OPEN,
    "close": "1",
    "ping-probe": "2probe",
    "pong-probe": "3probe",
    "upgrade": "5",
    "noop": "6",
    "message": "4hello",
    "message-utf8": "4\u20ac",
    "sio-connect": "40",
    "sio-event": '42["ev",{"a":1}]',
    "sio-binary-event": "451-[\"ev\"," + PLACEHOLDER0 + "]",
    "payload-spec": "4hello\x1e4\u20ac\x1ebAQIDBA==",
    "payload-pings": "2\x1e2\x1e6",
    "payload-base64-unpadded": "bAQID\x1ebAQ\x1eb",
    "bad-type": "7oops",
    "bad-base64": "4a\x1ebQ\x1e4b",
    "bad-empty-item": "4a\x1e\x1e4b",
    "bad-trailing-separator": "4a\x1e",
}

# Socket.IO: the text of a packet (what follows Engine.IO's `4`), then NUL-separated frames:
# binary attachments, or a text frame when one starts with \x01.
# https://socket.io/docs/v4/socket-io-protocol/
socketio = {
    "connect": "0",
    "connect-auth": '0{"token":"123"}',
    "connect-admin": '0/admin,{"token":"123"}',
    "disconnect-admin": "1/admin,",
    "event": '2["hello",1]',
    "event-admin-ack": '2/admin,456["project:delete",123]',
    "ack-admin": "3/admin,456[]",
    "ack-args": '3/admin,456[{"ok":true},"x"]',
    "connect-error": '4{"message":"Not authorized"}',
    "binary-event": "51-[\"hello\"," + PLACEHOLDER0 + "]\x00\x01\x02\x03",
    "binary-ack": "61-/admin,456[" + PLACEHOLDER0 + "]\x00\x03\x02\x01",
    "binary-two": "52-[\"f\"," + PLACEHOLDER0 + ",{\"x\":" + PLACEHOLDER1 + "}]\x00a\x00b",
    "binary-fewer-than-announced": "52-[\"f\"," + PLACEHOLDER0 + "]\x00only",
    "binary-more-than-announced": "51-[\"f\"," + PLACEHOLDER0 + "]\x00a\x00b",
    "binary-text-too-early": "51-[\"f\"," + PLACEHOLDER0 + "]\x00\x012[\"x\"]",
    "binary-placeholder-too-far": "51-[\"f\"," + PLACEHOLDER1 + "]\x00a",
    "binary-count-over-limit": "511-[\"f\"]",
    "binary-placeholder-huge": '51-["f",{"_placeholder":true,"num":18446744073709551615}]\x00a',
    "attachment-without-packet": '2["x"]\x00stray',
    "two-packets": '2["a"]\x00\x012["b"]',
    "numbers": '2["n",1.0,1e20,-0,1E400,12345678901234567890,0.1,5e-324]',
    "strings": '2["\\u00e9\\n",{"k":"\\"\\\\\\/","\\ud83d\\ude00":[]}]',
    "numeric-name": "2[1,2]",
    "reserved-name": '2["connect"]',
    "max-ack-id": "3/admin,9007199254740991[]",
    "ack-id-too-big": "39007199254740992[]",
    "namespace-at-end": "0/admin",
    # Objects with "_placeholder": true that are no valid placeholder refuse a binary packet.
    "binary-placeholder-double": '51-["f",{"_placeholder":true,"num":1.0}]',
    "binary-placeholder-lookalikes": '52-["f",{"_placeholder":true,"num":0.0},'
                                     '{"_placeholder":true,"num":"1"}]\x00a\x00b',
}

# Typed payloads: an event's arguments as JSON, for the handlers of convert.cpp.
convert = {
    "chat": ["lobby", {"text": "hi", "mentions": ["ann"], "pinned": True,
                       "extra": {"k": 1}}, 60],
    "routed": [{"room": "r", "text": "t", "replyTo": None, "mentions": []}, True],
    "order": [{"roomName": "lobby", "owner": {"id": "u1", "name": "Ann"},
               "items": [{"id": 1, "label": "tea", "price": 2.5, "quantity": 3}],
               "counts": {"tea": 1}, "urgent": True, "createdAt": -1700000000000,
               "serial": 18446744073709551615, "weight": 0.1}],
    "order-items-users": [{"roomName": "r", "owner": {"id": "a", "name": "b"}, "items": [],
                           "counts": {}, "reviewer": {"id": "c", "name": "d"}},
                          [{"id": 2, "label": "x", "quantity": 65535}],
                          {"ann": {"id": "1", "name": "Ann"}}],
    "upload": [{"name": "f", "data": json.loads(PLACEHOLDER0),
                "parts": [json.loads(PLACEHOLDER1)],
                "thumbnail": {"_placeholder": True, "num": 2},
                "extra": {"x": json.loads(PLACEHOLDER0)}},
               [json.loads(PLACEHOLDER1)], None],
    "upload-missing-attachment": [{"name": "f", "data": {"_placeholder": True, "num": 7}}],
    "reading": [{"level": -128, "flags": 255, "delta": -32768, "count": 4294967295,
                 "total": -9223372036854775808, "big": 18446744073709551615, "value": 1e308,
                 "ratio": 0.5, "samples": [1, None, 2.5], "series": {"a": [1, 2]}},
                3.0, -1, 1],
    "values": [{"any": [1, "x", None]}, {"o": {}}, [1, 2], "s"],
    "nested": [[[{"id": "a", "name": "b"}, None]], {"pi": 3.141592653589793, "e": 2.5}],
    "wrong-type": [{"roomName": 5}],
    "not-an-array": {"roomName": "lobby"},
}
convert_raw = {
    "numbers": "[1.0,1E2,-0.0,9007199254740993,1e400,-1e400,4.9e-324]",
    "integers-out-of-range": '[{"level":128,"flags":-1,"count":4294967296,"value":1}]',
    "duplicate-keys": '[{"text":"a","text":"b","mentions":[],"pinned":false}]',
    "empty": "[]",
    "null": "null",
    "deep": "[" * 40 + "]" * 40,
    "forwarded": '[{"_placeholder":true,"num":2},"x",{"deep":[{"num":0,"_placeholder":true}]},'
                 '{"_placeholder":true,"num":1}]',
    "forwarded-lookalike": '[{"_placeholder":true,"num":1},{"_placeholder":true,"num":0.0}]',
}


def client_frame(op, payload, fin=True, key=b"\x12\x34\x56\x78", form=None):
    """A frame as a client sends it (RFC 6455 §5.2): masked, shortest length unless `form`."""
    if isinstance(payload, str):
        payload = payload.encode()
    n = len(payload)
    head = bytes([(0x80 if fin else 0) | op])
    if form is None:
        form = 0 if n < 126 else (126 if n <= 0xFFFF else 127)
    if form == 0:
        head += bytes([0x80 | n])
    elif form == 126:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def ws(max_index, pattern, *frames):
    """The websocket target's input: the limit and read pattern, then the bytes."""
    return bytes([max_index | (pattern << 3)]) + b"".join(frames)


TEXT, BINARY, CLOSE, PING, PONG, CONT = 1, 2, 8, 9, 10, 0
websocket = {
    "text": ws(5, 0, client_frame(TEXT, "hello")),
    "engineio-session": ws(5, 3, client_frame(TEXT, "2probe"), client_frame(TEXT, "5"),
                           client_frame(TEXT, '42["ev",{"a":1}]')),
    "binary-attachment": ws(5, 7, client_frame(TEXT, "451-[\"ev\"," + PLACEHOLDER0 + "]"),
                            client_frame(BINARY, b"\x00\x01\x02\x03")),
    "ping-pong": ws(5, 1, client_frame(PING, "p"), client_frame(PONG, "")),
    "close": ws(5, 2, client_frame(CLOSE, struct.pack(">H", 1000) + b"bye"),
                client_frame(TEXT, "after close")),
    "close-empty": ws(5, 0, client_frame(CLOSE, b"")),
    "fragments": ws(5, 5, client_frame(TEXT, "hel", fin=False), client_frame(PING, "x"),
                    client_frame(CONT, "lo", fin=False), client_frame(CONT, "!")),
    "fragments-binary": ws(6, 9, client_frame(BINARY, b"\xff" * 3, fin=False),
                           client_frame(CONT, b"\x00" * 200)),
    "length-16": ws(6, 4, client_frame(BINARY, bytes(range(200)))),
    "unmasked": ws(5, 0, b"\x81\x05hello"),
    "rsv-set": ws(5, 0, b"\xc1" + client_frame(TEXT, "x")[1:]),
    "too-big": ws(2, 0, client_frame(TEXT, "123456")),
    "too-big-fragments": ws(2, 6, client_frame(TEXT, "123", fin=False),
                            client_frame(CONT, "456")),
    "invalid-utf8": ws(5, 0, client_frame(TEXT, b"\xed\xa0\x80")),
    "utf8-4-byte": ws(5, 0, client_frame(TEXT, "\U0001F600 ok \u20ac")),
    "close-bad-code": ws(5, 0, client_frame(CLOSE, struct.pack(">H", 1005))),
    "close-one-byte": ws(5, 0, client_frame(CLOSE, b"\x03")),
    "continuation-alone": ws(5, 0, client_frame(CONT, "x")),
    "new-message-inside-another": ws(5, 0, client_frame(TEXT, "a", fin=False),
                                     client_frame(TEXT, "b")),
    "control-fragmented": ws(5, 0, client_frame(PING, "p", fin=False)),
    "length-not-shortest": ws(6, 0, client_frame(TEXT, "short", form=127)),
    "truncated": ws(5, 11, client_frame(TEXT, "hello world")[:9]),
}


# MessagePack: the messages @socket.io/redis-adapter 8.x publishes, as notepack.io 3.x encodes
# them (the bytes below are its output), then the types only other encoders write and inputs
# to refuse. https://github.com/msgpack/msgpack/blob/master/spec.md
PLACEHOLDER_MAP = bytes.fromhex("82ac5f706c616365686f6c646572c3a36e756d00")  # as a plain map
msgpack = {
    "broadcast": bytes.fromhex(
        "93a641623378597a83a47479706502a46461746193a2657681a16101c403010203a36e7370a12f83"
        "a5726f6f6d7391a172a665786365707490a5666c61677380"),
    "broadcast-text": bytes.fromhex(
        "93a641623378597a83a47479706502a46461746196a463686174ae68c3a96c6c6f20e282acf09f98"
        "80cb3ff8000000000000ffc0c3a36e7370a62f61646d696e83a5726f6f6d7390a665786365707492"
        "a27331a27332a5666c61677382a8766f6c6174696c65c3a8636f6d7072657373c2"),
    "broadcast-ack": bytes.fromhex(
        "85a3756964a641623378597aa9726571756573744964a6517739655274a47479706507a67061636b"
        "657483a47479706502a46461746192a26576c403010203a36e7370a12fa46f70747383a5726f6f6d"
        "7391a172a665786365707491a27331a5666c61677381a8766f6c6174696c65c3"),
    "ack-response": bytes.fromhex(
        "83a47479706509a9726571756573744964a6517739655274a67061636b65749281a26f6bc3c5012c")
    + b"\x07" * 300,
    "fetch-sockets": bytes.fromhex(
        "84a3756964a641623378597aa9726571756573744964a6517739655274a47479706505a46f707473"
        "82a5726f6f6d7391a172a665786365707490"),
    "fetch-response": bytes.fromhex(
        "82a9726571756573744964a6517739655274a7736f636b6574739184a26964b46c765f5649393748"
        "415870593679595741414143a968616e647368616b6589a76865616465727381a4686f7374a96c6f"
        "63616c686f7374a474696d65d93e53756e204e6f7620323220323032362031303a30303a30302047"
        "4d542b303030302028436f6f7264696e6174656420556e6976657273616c2054696d6529a7616464"
        "72657373a33a3a31a778646f6d61696ec2a6736563757265c2a6697373756564cf000001a207d921"
        "7ba375726cb12f736f636b65742e696f2f3f45494f3d34a5717565727981a345494fa134a4617574"
        "6880a5726f6f6d7392b46c765f5649393748415870593679595741414143a172a46461746181a475"
        "736572a3616e6e"),
    "remote-join": bytes.fromhex(
        "85a3756964a641623378597aa9726571756573744964a6517739655274a47479706502a46f707473"
        "82a5726f6f6d7390a665786365707490a5726f6f6d7392a27231a27232"),
    "server-side-emit": bytes.fromhex(
        "83a3756964a641623378597aa47479706506a46461746193a568656c6c6f81a16ecf000000010000"
        "0000d3ffffffff7fffffff"),
    "dates": bytes.fromhex(
        "94d6ff00000000d7ff1d5353006b02bd20c70cff3b8b87c0ffffffffffffffffc70cff0000000000"
        "00003afff44180"),
    "float32": bytes.fromhex("93ca3fc00000ca7f800000ca7fc00000"),
    "nan": bytes.fromhex("cb7ff8000000000000"),
    "integers-long-forms": bytes.fromhex("98cc05cd0005ce00000005cf0000000000000005d0fb"
                                         "d1fffbd2fffffffbd3fffffffffffffffb"),
    "integers-extremes": bytes.fromhex("94cfffffffffffffffffcf7fffffffffffffff"
                                       "d38000000000000000cb43f0000000000000"),
    "lengths-long-forms": bytes.fromhex("96d90161da000161db0000000161dc0001c0dd00000001c0"
                                        "de0001a161c0"),
    "bin-forms": bytes.fromhex("93c401aac50001bbc600000001cc"),
    "integer-keys": bytes.fromhex("84ffc0ccffc0d38000000000000000c0cfffffffffffffffffc0"),
    "duplicate-keys": bytes.fromhex("83a161c401aaa162c401bba161c401cc"),
    "undefined": bytes.fromhex("92d40000c0"),
    "timestamp-rounding": bytes.fromhex("92d7ffee6b27ffffffffffc70cff3b9ac9ff000007dba8217fff"),
    "timestamp-out-of-range": bytes.fromhex("c70cff000000007fffffffffffffff"),
    "placeholder-map": PLACEHOLDER_MAP,
    "placeholder-map-next-to-bin": b"\x92" + PLACEHOLDER_MAP + bytes.fromhex("c401aa"),
    "deep": b"\x91" * 32 + b"\xc0",
    "too-deep": b"\x91" * 33 + b"\xc0",
    "too-many-bins": b"\x9b" + bytes.fromhex("c40101") * 11,
    "str32-claims-4gib": bytes.fromhex("dbffffffff616263"),
    "array32-claims-4g": bytes.fromhex("ddffffffffc0c0c0"),
    "map16-short": bytes.fromhex("de0002a161c0"),
    "truncated": bytes.fromhex("93a641623378597a83a47479706502a46461746193a26576"),
    "trailing": bytes.fromhex("c0c0"),
    "reserved-c1": bytes.fromhex("91c1"),
    "unknown-ext": bytes.fromhex("d50100ff"),
    "bad-utf8": bytes.fromhex("a3eda080"),
    "bad-key": bytes.fromhex("81c0c0"),
}


def write(target, seeds):
    out = here / "corpus" / target
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for name, data in seeds.items():
        if isinstance(data, str):
            data = data.encode()
        (out / name).write_bytes(data)


write("engineio", engineio)
write("socketio", socketio)
write("convert", {**{k: json.dumps(v, separators=(",", ":")) for k, v in convert.items()},
                  **convert_raw})
write("websocket", websocket)
write("msgpack", msgpack)
