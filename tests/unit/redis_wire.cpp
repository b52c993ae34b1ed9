// Unit tests for roomcast/adapter/redis/wire.hpp: the messages of @socket.io/redis-adapter
// 8.3.0 and @socket.io/redis-emitter 5.1.0 on Redis. Every expected byte string below is what
// the Node code published (socket.io 4.8.4, notepack.io 3.0.1, Node.js 20) for the call
// written beside it, the adapter's uid being "Ab3xYz" and its request ids "Qw9eRt"; every JSON
// text is what it published as JSON (JSON.stringify of the objects of its source).
#include "catch.hpp"
#include "node_bytes.hpp"

#include <roomcast/adapter/redis/wire.hpp>
#include <roomcast/protocol/error.hpp>
#include <roomcast/protocol/json.hpp>
#include <roomcast/protocol/msgpack.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace json = boost::json;
namespace mp = roomcast::protocol::msgpack;
namespace wire = roomcast::adapter::redis;
using roomcast::adapter::broadcast_options;
using roomcast::protocol::parse_json;

using namespace roomcast::test;

namespace {

json::array js_array(std::string_view text) {
    auto v = js(text);
    REQUIRE(v.is_array());
    return std::move(v.get_array());
}

json::object js_object(std::string_view text) {
    auto v = js(text);
    REQUIRE(v.is_object());
    return std::move(v.get_object());
}

using strings = std::vector<std::string>;

wire::broadcast_message decode_ok(std::string_view bytes, std::size_t max_attachments = 10) {
    auto r = wire::decode_broadcast(bytes, max_attachments);
    INFO("decoding " << to_hex(bytes) << ": " << (r ? "ok" : r.error().message()));
    REQUIRE(r.has_value());
    return std::move(*r);
}

/// "ok" or the message of the error; "threw" if decoding threw.
std::string outcome(std::string_view bytes, std::size_t max_attachments = 10) {
    try {
        auto const r = wire::decode_broadcast(bytes, max_attachments);
        return r ? std::string("ok") : r.error().message();
    } catch (std::exception const& e) {
        return std::string("threw: ") + e.what();
    }
}

json::object message_ok(std::string_view bytes, strings& attachments,
                        std::size_t max_attachments = 10) {
    auto r = wire::decode_message(bytes, attachments, max_attachments);
    INFO("decoding " << bytes << ": " << (r ? "ok" : r.error().message()));
    REQUIRE(r.has_value());
    return std::move(*r);
}

std::string message_outcome(std::string_view bytes, std::size_t max_attachments = 10) {
    try {
        strings attachments;
        auto const r = wire::decode_message(bytes, attachments, max_attachments);
        return r ? std::string("ok") : r.error().message();
    } catch (std::exception const& e) {
        return std::string("threw: ") + e.what();
    }
}

std::string const malformed = wire::malformed_message().message();
std::string const invalid_json =
    roomcast::protocol::make_error_code(roomcast::protocol::error::invalid_json).message();

std::string message_of(mp::error e) {
    return make_error_code(e).message();
}

/// Checks that two broadcasts mean the same to the node that receives them.
void check_same_broadcast(std::string_view a, std::string_view b) {
    INFO(to_hex(a) << "\n  and " << to_hex(b));
    auto const x = decode_ok(a);
    auto const y = decode_ok(b);
    CHECK(x.uid == y.uid);
    CHECK(x.nsp == y.nsp);
    CHECK(x.args == y.args);
    CHECK(x.attachments == y.attachments);
    CHECK(x.opt.rooms == y.opt.rooms);
    CHECK(x.opt.except == y.opt.except);
    CHECK(x.opt.is_volatile == y.opt.is_volatile);
    CHECK(x.opt.local == y.opt.local);
}

/// The shortest text that reads back as `d`, as JavaScript's String(d) has it.
std::string shortest(double d) {
    char buf[32];
    auto const r = std::to_chars(buf, buf + sizeof buf, d);
    return std::string(buf, r.ptr);
}

/// `n` arrays nested in one another around 0.
json::value nested(std::size_t n) {
    json::value v = 0;
    for (std::size_t i = 0; i < n; ++i)
        v = json::array{std::move(v)};
    return v;
}

// Broadcasts a Node server published through the adapter, and the arguments that make roomcast
// write the same bytes: `args` is the packet's data with a placeholder for each Buffer,
// `attachments` (hex) the Buffers, `channel` where the adapter published it.
struct node_broadcast {
    std::string_view call;
    std::string_view nsp;
    std::string_view args;
    std::vector<std::string_view> attachments;
    broadcast_options opt;
    std::string_view channel;
    std::string_view hex;
};

node_broadcast const node_broadcasts[] = {
    {R"(io.emit("ping"))",
     "/",
     R"(["ping"])",
     {},
     {},
     "socket.io#/#",
     "93a641623378597a83a47479706502a46461746191a470696e67a36e7370a12f"
     "83a5726f6f6d7390a665786365707490a5666c61677380"},
    {R"(io.emit("ev", 1, -2, 1.5, "s", true, false, null, [1, "a"], {a: 1, b: {c: [null]}},)"
     R"( 300, 70000, 5e9, -200))",
     "/",
     R"(["ev",1,-2,1.5,"s",true,false,null,[1,"a"],{"a":1,"b":{"c":[null]}},300,70000,)"
     R"(5000000000,-200])",
     {},
     {},
     "socket.io#/#",
     "93a641623378597a83a47479706502a4646174619ea2657601fecb3ff8000000"
     "000000a173c3c2c09201a16182a16101a16281a16391c0cd012cce00011170cf"
     "000000012a05f200d1ff38a36e7370a12f83a5726f6f6d7390a6657863657074"
     "90a5666c61677380"},
    {R"(io.emit("ev", "h\u00e9llo \u20ac\ud83d\ude00", "a".repeat(40), {"": 0}, [], {}, 0.1,)"
     R"( -0.5, 2 ** 53))",
     "/",
     R"(["ev","h\u00e9llo \u20ac\ud83d\ude00","aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",)"
     R"({"":0},[],{},0.1,-0.5,9007199254740992])",
     {},
     {},
     "socket.io#/#",
     "93a641623378597a83a47479706502a46461746199a26576ae68c3a96c6c6f20"
     "e282acf09f9880d9286161616161616161616161616161616161616161616161"
     "616161616161616161616161616161616181a0009080cb3fb999999999999acb"
     "bfe0000000000000cf0020000000000000a36e7370a12f83a5726f6f6d7390a6"
     "65786365707490a5666c61677380"},
    {R"(io.emit("file", {name: "x"}, Buffer.from([1, 2, 3])))",
     "/",
     R"(["file",{"name":"x"},{"_placeholder":true,"num":0}])",
     {"010203"},
     {},
     "socket.io#/#",
     "93a641623378597a83a47479706502a46461746193a466696c6581a46e616d65"
     "a178c403010203a36e7370a12f83a5726f6f6d7390a665786365707490a5666c"
     "61677380"},
    {R"(io.emit("files", Buffer.from([0xaa]), {x: Buffer.alloc(0)}))",
     "/",
     R"(["files",{"_placeholder":true,"num":0},{"x":{"_placeholder":true,"num":1}}])",
     {"aa", ""},
     {},
     "socket.io#/#",
     "93a641623378597a83a47479706502a46461746193a566696c6573c401aa81a1"
     "78c400a36e7370a12f83a5726f6f6d7390a665786365707490a5666c61677380"},
    {R"(io.to(["a", "b"]).except(["c", "d"]).emit("ev", 1))",
     "/",
     R"(["ev",1])",
     {},
     {.rooms = {"a", "b"}, .except = {"c", "d"}},
     "socket.io#/#",
     "93a641623378597a83a47479706502a46461746192a2657601a36e7370a12f83"
     "a5726f6f6d7392a161a162a665786365707492a163a164a5666c61677380"},
    {R"(io.to("r").emit("ev"))",
     "/",
     R"(["ev"])",
     {},
     {.rooms = {"r"}},
     "socket.io#/#r#",
     "93a641623378597a83a47479706502a46461746191a26576a36e7370a12f83a5"
     "726f6f6d7391a172a665786365707490a5666c61677380"},
    {R"(io.to("r").except("s").emit("ev"))",
     "/",
     R"(["ev"])",
     {},
     {.rooms = {"r"}, .except = {"s"}},
     "socket.io#/#r#",
     "93a641623378597a83a47479706502a46461746191a26576a36e7370a12f83a5"
     "726f6f6d7391a172a665786365707491a173a5666c61677380"},
    {R"(io.volatile.emit("ev", "x"))",
     "/",
     R"(["ev","x"])",
     {},
     {.is_volatile = true},
     "socket.io#/#",
     "93a641623378597a83a47479706502a46461746192a26576a178a36e7370a12f"
     "83a5726f6f6d7390a665786365707490a5666c61677381a8766f6c6174696c65"
     "c3"},
    {R"(io.except("s").volatile.emit("ev"))",
     "/",
     R"(["ev"])",
     {},
     {.except = {"s"}, .is_volatile = true},
     "socket.io#/#",
     "93a641623378597a83a47479706502a46461746191a26576a36e7370a12f83a5"
     "726f6f6d7390a665786365707491a173a5666c61677381a8766f6c6174696c65"
     "c3"},
    {R"(io.compress(false).emit("ev"))",
     "/",
     R"(["ev"])",
     {},
     {.compress = false},
     "socket.io#/#",
     "93a641623378597a83a47479706502a46461746191a26576a36e7370a12f83a5"
     "726f6f6d7390a665786365707490a5666c61677381a8636f6d7072657373c2"},
    {R"(io.of("/chat").to("r").emit("ev", 1))",
     "/chat",
     R"(["ev",1])",
     {},
     {.rooms = {"r"}},
     "socket.io#/chat#r#",
     "93a641623378597a83a47479706502a46461746192a2657601a36e7370a52f63"
     "68617483a5726f6f6d7391a172a665786365707490a5666c61677380"},
};

// io.compress(true).emit("ev"): Node sends the flag; roomcast writes only the flags that differ
// from Socket.IO's defaults, and compression is the default.
constexpr std::string_view node_compress_true =
    "93a641623378597a83a47479706502a46461746191a26576a36e7370a12f83a5"
    "726f6f6d7390a665786365707490a5666c61677381a8636f6d7072657373c3";

// io.to(5).except(1.5).emit("ev"): numbers as rooms, published on the room's channel
// "socket.io#/#5#".
constexpr std::string_view node_number_rooms =
    "93a641623378597a83a47479706502a46461746191a26576a36e7370a12f83a5"
    "726f6f6d739105a665786365707491cb3ff8000000000000a5666c61677380";

// What the emitter publishes: `["emitter", packet, {rooms, flags, except}]`.
struct emitter_broadcast {
    std::string_view call;
    std::string_view nsp;
    std::string_view args;
    std::vector<std::string_view> attachments;
    broadcast_options opt;
    std::string_view hex;
    bool number_rooms = false; ///< rooms given as numbers, which roomcast writes as strings
};

emitter_broadcast const emitter_broadcasts[] = {
    {R"(emitter.emit("ev", 1, "two"))",
     "/",
     R"(["ev",1,"two"])",
     {},
     {},
     "93a7656d697474657283a47479706502a46461746193a2657601a374776fa36e"
     "7370a12f83a5726f6f6d7390a5666c61677380a665786365707490"},
    {R"(emitter.to("r").except("s").emit("ev", {a: 1}))",
     "/",
     R"(["ev",{"a":1}])",
     {},
     {.rooms = {"r"}, .except = {"s"}},
     "93a7656d697474657283a47479706502a46461746192a2657681a16101a36e73"
     "70a12f83a5726f6f6d7391a172a5666c61677380a665786365707491a173"},
    {R"(emitter.volatile.to(["a", "b"]).emit("ev"))",
     "/",
     R"(["ev"])",
     {},
     {.rooms = {"a", "b"}, .is_volatile = true},
     "93a7656d697474657283a47479706502a46461746191a26576a36e7370a12f83"
     "a5726f6f6d7392a161a162a5666c61677381a8766f6c6174696c65c3a6657863"
     "65707490"},
    {R"(emitter.emit("ev", Buffer.from([1, 2]), {b: Buffer.from([3])}))",
     "/",
     R"(["ev",{"_placeholder":true,"num":0},{"b":{"_placeholder":true,"num":1}}])",
     {"0102", "03"},
     {},
     "93a7656d697474657283a47479706502a46461746193a26576c402010281a162"
     "c40103a36e7370a12f83a5726f6f6d7390a5666c61677380a665786365707490"},
    {R"(emitter.of("chat").to(7).emit("ev"))",
     "/chat",
     R"(["ev"])",
     {},
     {.rooms = {"7"}},
     "93a7656d697474657283a47479706502a46461746191a26576a36e7370a52f63"
     "68617483a5726f6f6d739107a5666c61677380a665786365707490",
     true},
    {R"(emitter.compress(false).emit("ev"))",
     "/",
     R"(["ev"])",
     {},
     {.compress = false},
     "93a7656d697474657283a47479706502a46461746191a26576a36e7370a12f83"
     "a5726f6f6d7390a5666c61677381a8636f6d7072657373c2a665786365707490"},
};

// Broadcasts in shapes Node reads and roomcast must read too (notepack.io's encode of the
// JavaScript value in `value`), and what they decode to.
struct read_row {
    std::string_view value;
    std::string_view hex;
    std::string_view nsp;
    std::string_view args;
    std::vector<std::string_view> attachments;
    strings rooms;
    strings except;
    bool is_volatile;
};

read_row const read_rows[] = {
    // No nsp: the adapter takes "/".
    {R"(["emitter", {type: 2, data: ["ev", 1]}, {rooms: [], flags: {}, except: []}])",
     "93a7656d697474657282a47479706502a46461746192a265760183a5726f6f6d"
     "7390a5666c61677380a665786365707490",
     "/",
     R"(["ev",1])",
     {},
     {},
     {},
     false},
    // nsp undefined (notepack.io's undefined ext): the adapter takes "/".
    {R"(["emitter", {type: 2, data: ["ev"], nsp: undefined}, {rooms: [], flags: {}, except: []}])",
     "93a7656d697474657282a47479706502a46461746191a2657683a5726f6f6d73"
     "90a5666c61677380a665786365707490",
     "/",
     R"(["ev"])",
     {},
     {},
     {},
     false},
    // A binary event (type 5), as older emitters sent one.
    {R"(["emitter", {type: 5, data: ["ev", Buffer.from([1])], nsp: "/"}, {rooms: [], flags: {},)"
     R"( except: []}])",
     "93a7656d697474657283a47479706505a46461746192a26576c40101a36e7370"
     "a12f83a5726f6f6d7390a5666c61677380a665786365707490",
     "/",
     R"(["ev",{"_placeholder":true,"num":0}])",
     {"01"},
     {},
     {},
     false},
    // A number as the event name.
    {R"(["emitter", {type: 2, data: [7, "x"], nsp: "/"}, {rooms: [], flags: {}, except: []}])",
     "93a7656d697474657283a47479706502a4646174619207a178a36e7370a12f83"
     "a5726f6f6d7390a5666c61677380a665786365707490",
     "/",
     R"([7,"x"])",
     {},
     {},
     {},
     false},
    // volatile: false
    {R"(["emitter", {type: 2, data: ["ev"], nsp: "/"}, {rooms: [], flags: {volatile: false},)"
     R"( except: []}])",
     "93a7656d697474657283a47479706502a46461746191a26576a36e7370a12f83"
     "a5726f6f6d7390a5666c61677381a8766f6c6174696c65c2a665786365707490",
     "/",
     R"(["ev"])",
     {},
     {},
     {},
     false},
    // Empty options: everyone.
    {R"(["emitter", {type: 2, data: ["ev"], nsp: "/"}, {}])",
     "93a7656d697474657283a47479706502a46461746191a26576a36e7370a12f80",
     "/",
     R"(["ev"])",
     {},
     {},
     {},
     false},
};

// Messages the adapter cannot take as a broadcast (notepack.io's encode of `value`).
struct refused_row {
    std::string_view value;
    std::string_view hex;
};

refused_row const refused_rows[] = {
    {R"({uid: "emitter", type: 2, data: ["ev"]})",
     "83a3756964a7656d6974746572a47479706502a46461746191a26576"},
    {R"("emitter")", "a7656d6974746572"},
    {R"(null)", "c0"},
    {R"([])", "90"},
    {R"(["emitter", {type: 2, data: ["ev"], nsp: "/"}])",
     "92a7656d697474657283a47479706502a46461746191a26576a36e7370a12f"},
    {R"([5, {type: 2, data: ["ev"], nsp: "/"}, {rooms: [], except: [], flags: {}}])",
     "930583a47479706502a46461746191a26576a36e7370a12f83a5726f6f6d7390"
     "a665786365707490a5666c61677380"},
    {R"(["emitter", [2, ["ev"], "/"], {rooms: [], except: [], flags: {}}])",
     "93a7656d6974746572930291a26576a12f83a5726f6f6d7390a6657863657074"
     "90a5666c61677380"},
    {R"(["emitter", null, {rooms: [], except: [], flags: {}}])",
     "93a7656d6974746572c083a5726f6f6d7390a665786365707490a5666c616773"
     "80"},
    {R"(["emitter", {type: 0, data: ["ev"], nsp: "/"}, {rooms: [], except: [], flags: {}}])",
     "93a7656d697474657283a47479706500a46461746191a26576a36e7370a12f83"
     "a5726f6f6d7390a665786365707490a5666c61677380"},
    {R"(["emitter", {type: 1, data: ["ev"], nsp: "/"}, {rooms: [], except: [], flags: {}}])",
     "93a7656d697474657283a47479706501a46461746191a26576a36e7370a12f83"
     "a5726f6f6d7390a665786365707490a5666c61677380"},
    {R"(["emitter", {type: 3, data: ["ev"], nsp: "/"}, {rooms: [], except: [], flags: {}}])",
     "93a7656d697474657283a47479706503a46461746191a26576a36e7370a12f83"
     "a5726f6f6d7390a665786365707490a5666c61677380"},
    {R"(["emitter", {type: 4, data: ["ev"], nsp: "/"}, {rooms: [], except: [], flags: {}}])",
     "93a7656d697474657283a47479706504a46461746191a26576a36e7370a12f83"
     "a5726f6f6d7390a665786365707490a5666c61677380"},
    {R"(["emitter", {type: 6, data: ["ev"], nsp: "/"}, {rooms: [], except: [], flags: {}}])",
     "93a7656d697474657283a47479706506a46461746191a26576a36e7370a12f83"
     "a5726f6f6d7390a665786365707490a5666c61677380"},
    {R"(["emitter", {type: "2", data: ["ev"], nsp: "/"}, {rooms: [], except: [], flags: {}}])",
     "93a7656d697474657283a474797065a132a46461746191a26576a36e7370a12f"
     "83a5726f6f6d7390a665786365707490a5666c61677380"},
    {R"(["emitter", {type: null, data: ["ev"], nsp: "/"}, {rooms: [], except: [], flags: {}}])",
     "93a7656d697474657283a474797065c0a46461746191a26576a36e7370a12f83"
     "a5726f6f6d7390a665786365707490a5666c61677380"},
    {R"(["emitter", {type: 2.5, data: ["ev"], nsp: "/"}, {rooms: [], except: [], flags: {}}])",
     "93a7656d697474657283a474797065cb4004000000000000a46461746191a265"
     "76a36e7370a12f83a5726f6f6d7390a665786365707490a5666c61677380"},
    {R"(["emitter", {data: ["ev"], nsp: "/"}, {rooms: [], except: [], flags: {}}])",
     "93a7656d697474657282a46461746191a26576a36e7370a12f83a5726f6f6d73"
     "90a665786365707490a5666c61677380"},
    {R"(["emitter", {type: 2, nsp: "/"}, {rooms: [], except: [], flags: {}}])",
     "93a7656d697474657282a47479706502a36e7370a12f83a5726f6f6d7390a665"
     "786365707490a5666c61677380"},
    {R"(["emitter", {type: 2, data: [], nsp: "/"}, {rooms: [], except: [], flags: {}}])",
     "93a7656d697474657283a47479706502a46461746190a36e7370a12f83a5726f"
     "6f6d7390a665786365707490a5666c61677380"},
    {R"(["emitter", {type: 2, data: "ev", nsp: "/"}, {rooms: [], except: [], flags: {}}])",
     "93a7656d697474657283a47479706502a464617461a26576a36e7370a12f83a5"
     "726f6f6d7390a665786365707490a5666c61677380"},
    {R"(["emitter", {type: 2, data: [null, 1], nsp: "/"}, {rooms: [], except: [], flags: {}}])",
     "93a7656d697474657283a47479706502a46461746192c001a36e7370a12f83a5"
     "726f6f6d7390a665786365707490a5666c61677380"},
    {R"(["emitter", {type: 2, data: [true, 1], nsp: "/"}, {rooms: [], except: [], flags: {}}])",
     "93a7656d697474657283a47479706502a46461746192c301a36e7370a12f83a5"
     "726f6f6d7390a665786365707490a5666c61677380"},
    {R"(["emitter", {type: 2, data: [{a: 1}, 1], nsp: "/"}, {rooms: [], except: [], flags: {}}])",
     "93a7656d697474657283a47479706502a4646174619281a1610101a36e7370a1"
     "2f83a5726f6f6d7390a665786365707490a5666c61677380"},
    {R"(["emitter", {type: 2, data: [["ev"], 1], nsp: "/"}, {rooms: [], except: [], flags: {}}])",
     "93a7656d697474657283a47479706502a4646174619291a2657601a36e7370a1"
     "2f83a5726f6f6d7390a665786365707490a5666c61677380"},
};

// Broadcasts with acknowledgements, as the adapter publishes them on the request channel for
// `io.timeout(t).emit(..., callback)`: socket.io's flags then hold `timeout`.
struct node_request {
    std::string_view call;
    std::string_view nsp;
    std::string_view args;
    std::vector<std::string_view> attachments;
    broadcast_options opt;
    std::chrono::milliseconds timeout;
    std::string_view hex;
};

node_request const node_requests[] = {
    {R"(io.timeout(5000).emit("ev", 1, callback))",
     "/",
     R"(["ev",1])",
     {},
     {},
     std::chrono::milliseconds(5000),
     "85a3756964a641623378597aa9726571756573744964a6517739655274a47479"
     "706507a67061636b657483a47479706502a46461746192a2657601a36e7370a1"
     "2fa46f70747383a5726f6f6d7390a665786365707490a5666c61677381a77469"
     "6d656f7574cd1388"},
    {R"(io.to("r").except("s").volatile.timeout(1500).emit("ev", Buffer.from([1, 2, 3]),)"
     R"( callback))",
     "/",
     R"(["ev",{"_placeholder":true,"num":0}])",
     {"010203"},
     {.rooms = {"r"}, .except = {"s"}, .is_volatile = true},
     std::chrono::milliseconds(1500),
     "85a3756964a641623378597aa9726571756573744964a6517739655274a47479"
     "706507a67061636b657483a47479706502a46461746192a26576c403010203a3"
     "6e7370a12fa46f70747383a5726f6f6d7391a172a665786365707491a173a566"
     "6c61677382a8766f6c6174696c65c3a774696d656f7574cd05dc"},
    {R"(io.of("/chat").timeout(10).emit("q", callback))",
     "/chat",
     R"(["q"])",
     {},
     {},
     std::chrono::milliseconds(10),
     "85a3756964a641623378597aa9726571756573744964a6517739655274a47479"
     "706507a67061636b657483a47479706502a46461746191a171a36e7370a52f63"
     "686174a46f70747383a5726f6f6d7390a665786365707490a5666c61677381a7"
     "74696d656f75740a"},
};

// The same as the second request with the flags set in the other order
// (`.timeout(1500).volatile`): Node's flags are then {timeout, volatile}; roomcast always
// writes {volatile, timeout}.
constexpr std::string_view node_request_timeout_first =
    "85a3756964a641623378597aa9726571756573744964a6517739655274a47479"
    "706507a67061636b657483a47479706502a46461746192a26576c403010203a3"
    "6e7370a12fa46f70747383a5726f6f6d7391a172a665786365707491a173a566"
    "6c61677382a774696d656f7574cd05dca8766f6c6174696c65c3";

// A client's answer to a broadcast with acknowledgements, `{type: 9, requestId, packet: arg}`.
struct node_ack {
    std::string_view request_id;
    std::string_view answer;
    std::string_view hex;
};

node_ack const node_acks[] = {
    {"Qw9eRt", R"("ok")",
     "83a47479706509a9726571756573744964a6517739655274a67061636b6574a2"
     "6f6b"},
    {"Qw9eRt", R"({"a":1})",
     "83a47479706509a9726571756573744964a6517739655274a67061636b657481"
     "a16101"},
    {"Qw9eRt", R"(null)", "83a47479706509a9726571756573744964a6517739655274a67061636b6574c0"},
    {"Qw9eRt", R"([1,"x"])",
     "83a47479706509a9726571756573744964a6517739655274a67061636b657492"
     "01a178"},
    {"Qw9eRt", R"(42)", "83a47479706509a9726571756573744964a6517739655274a67061636b65742a"},
    {"Qw9eRt", R"(1.5)",
     "83a47479706509a9726571756573744964a6517739655274a67061636b6574cb"
     "3ff8000000000000"},
    // A socket.io-client's `callback(["pong", 1])` to a broadcast request "Rq0005".
    {"Rq0005", R"(["pong",1])",
     "83a47479706509a9726571756573744964a6527130303035a67061636b657492"
     "a4706f6e6701"},
};

// A socket.io-client's `callback(Buffer.from([9, 8]))` to the broadcast request "Rq0006".
constexpr std::string_view node_binary_ack =
    "83a47479706509a9726571756573744964a6527130303036a67061636b6574c4"
    "020908";

} // namespace

TEST_CASE("redis wire: the channels of a namespace are the adapter's", "[redis][wire]") {
    wire::channels const root("socket.io", "/");
    CHECK(root.broadcast == "socket.io#/#");
    CHECK(root.pattern == "socket.io#/#*");
    CHECK(root.request == "socket.io-request#/#");
    CHECK(root.response == "socket.io-response#/#");
    CHECK(root.response_for("Ab3xYz") == "socket.io-response#/#Ab3xYz#");

    // createAdapter(pub, sub, {key: "myapp"}), namespace "/chat".
    wire::channels const chat("myapp", "/chat");
    CHECK(chat.broadcast == "myapp#/chat#");
    CHECK(chat.pattern == "myapp#/chat#*");
    CHECK(chat.request == "myapp-request#/chat#");
    CHECK(chat.response == "myapp-response#/chat#");
    CHECK(chat.response_for("CaTbbS") == "myapp-response#/chat#CaTbbS#");
    // chat.emit, chat.to("room 1"), chat.to(["a", "b"]), chat.to("a#b"): the room's own channel
    // for exactly one room.
    CHECK(chat.broadcast_for({}) == "myapp#/chat#");
    CHECK(chat.broadcast_for({"room 1"}) == "myapp#/chat#room 1#");
    CHECK(chat.broadcast_for({"a", "b"}) == "myapp#/chat#");
    CHECK(chat.broadcast_for({"a#b"}) == "myapp#/chat#a#b#");
}

TEST_CASE("redis wire: encode_broadcast writes the bytes of the Node adapter's broadcast",
          "[redis][wire]") {
    for (auto const& r : node_broadcasts) {
        INFO(r.call);
        auto const attachments = from_hex(r.attachments);
        CHECK(to_hex(wire::encode_broadcast("Ab3xYz", r.nsp, js_array(r.args), attachments,
                                            r.opt)) == r.hex);
        CHECK(wire::channels("socket.io", r.nsp).broadcast_for(r.opt.rooms) == r.channel);
        // The local flag is the caller's business (a local broadcast is not published): it is
        // not on the wire.
        auto local = r.opt;
        local.local = true;
        CHECK(to_hex(wire::encode_broadcast("Ab3xYz", r.nsp, js_array(r.args), attachments,
                                            local)) == r.hex);
    }
}

TEST_CASE("redis wire: decode_broadcast reads the Node adapter's broadcasts", "[redis][wire]") {
    for (auto const& r : node_broadcasts) {
        INFO(r.call);
        auto const m = decode_ok(from_hex(r.hex));
        CHECK(m.uid == "Ab3xYz");
        CHECK(m.nsp == r.nsp);
        CHECK(m.args == js_array(r.args));
        CHECK(m.attachments == from_hex(r.attachments));
        CHECK(m.opt.rooms == r.opt.rooms);
        CHECK(m.opt.except == r.opt.except);
        CHECK(m.opt.is_volatile == r.opt.is_volatile);
        // Delivered on the receiving node only: it must not be published again.
        CHECK(m.opt.local);
    }
}

TEST_CASE("redis wire: a broadcast with the flags Node sends but roomcast does not write means "
          "the same",
          "[redis][wire]") {
    // io.compress(true): Node writes {compress: true}, roomcast writes {}.
    auto const ours = wire::encode_broadcast("Ab3xYz", "/", js_array(R"(["ev"])"), {}, {});
    CHECK(ours != from_hex(node_compress_true));
    check_same_broadcast(ours, from_hex(node_compress_true));
    strings none;
    auto const theirs = mp::decode(from_hex(node_compress_true), none);
    auto const mine = mp::decode(ours, none);
    REQUIRE(theirs);
    REQUIRE(mine);
    CHECK(theirs->at(1) == mine->at(1));
    CHECK(theirs->at(2).at("rooms") == mine->at(2).at("rooms"));
    CHECK(theirs->at(2).at("except") == mine->at(2).at("except"));
    CHECK(theirs->at(2).at("flags") == js(R"({"compress":true})"));
    CHECK(mine->at(2).at("flags") == js(R"({})"));
}

TEST_CASE("redis wire: roomcast's emitter messages mean what the Node emitter's mean",
          "[redis][wire]") {
    // The Node emitter writes its options as {rooms, flags, except}; roomcast's emitter uses
    // encode_broadcast, which writes the adapter's order {rooms, except, flags}. The values
    // are the same JavaScript objects.
    for (auto const& r : emitter_broadcasts) {
        INFO(r.call);
        auto const attachments = from_hex(r.attachments);
        auto const ours =
            wire::encode_broadcast("emitter", r.nsp, js_array(r.args), attachments, r.opt);
        auto const theirs = from_hex(r.hex);
        CHECK(ours != theirs);
        check_same_broadcast(ours, theirs);
        if (r.number_rooms)
            continue; // 7 and "7": the same room, not the same value
        CHECK(ours.size() == theirs.size());
        strings a, b;
        auto const x = mp::decode(ours, a);
        auto const y = mp::decode(theirs, b);
        REQUIRE(x);
        REQUIRE(y);
        CHECK(js_equal(*x, *y));
        CHECK(a == b);
    }
}

TEST_CASE("redis wire: decode_broadcast reads the Node emitter's broadcasts", "[redis][wire]") {
    for (auto const& r : emitter_broadcasts) {
        INFO(r.call);
        auto const m = decode_ok(from_hex(r.hex));
        CHECK(m.uid == "emitter");
        CHECK(m.nsp == r.nsp);
        CHECK(m.args == js_array(r.args));
        CHECK(m.attachments == from_hex(r.attachments));
        CHECK(m.opt.rooms == r.opt.rooms);
        CHECK(m.opt.except == r.opt.except);
        CHECK(m.opt.is_volatile == r.opt.is_volatile);
        CHECK(m.opt.local);
    }
    for (auto const& r : read_rows) {
        INFO(r.value);
        auto const m = decode_ok(from_hex(r.hex));
        CHECK(m.uid == "emitter");
        CHECK(m.nsp == r.nsp);
        CHECK(m.args == js_array(r.args));
        CHECK(m.attachments == from_hex(r.attachments));
        CHECK(m.opt.rooms == r.rooms);
        CHECK(m.opt.except == r.except);
        CHECK(m.opt.is_volatile == r.is_volatile);
        CHECK(m.opt.local);
    }
}

TEST_CASE("redis wire: rooms given as numbers are read as their text", "[redis][wire]") {
    // Socket.IO rooms may be numbers in JavaScript; the adapter finds a numeric room by
    // parseFloat of its text, so a number is the room named by String(number).
    // ["emitter", {type: 2, data: ["ev"], nsp: "/"}, {rooms: [5, -3, "r"], flags: {},
    //  except: [0, 2 ** 40]}]
    auto const m = decode_ok(from_hex("93a7656d697474657283a47479706502a46461746191a26576a36e"
                                      "7370a12f83a5726f6f6d739305fda172a5666c61677380a665786365"
                                      "70749200cf0000010000000000"));
    CHECK(m.opt.rooms == strings{"5", "-3", "r"});
    CHECK(m.opt.except == strings{"0", "1099511627776"});
}

// A room that is a number with a fraction is named as JavaScript's String(1.5) names it
// ("1.5"), not as a serialized double ("1.5E0") that no server would name.
TEST_CASE("redis wire: rooms given as fractional numbers are read as JavaScript writes them",
          "[redis][wire]") {
    // io.to(5).except(1.5).emit("ev"), from the Node adapter.
    auto const m = decode_ok(from_hex(node_number_rooms));
    CHECK(m.opt.rooms == strings{"5"});
    CHECK(m.opt.except == strings{"1.5"});
    // ["emitter", {type: 2, data: ["ev"], nsp: "/"}, {rooms: [5, 1.5, -3, "r"], flags: {},
    //  except: [0, 2 ** 40]}]
    auto const e = decode_ok(from_hex("93a7656d697474657283a47479706502a46461746191a26576a36e"
                                      "7370a12f83a5726f6f6d739405cb3ff8000000000000fda172a566"
                                      "6c61677380a66578636570749200cf0000010000000000"));
    CHECK(e.opt.rooms == strings{"5", "1.5", "-3", "r"});
    CHECK(e.opt.except == strings{"0", "1099511627776"});
    // emitter.in(1.5).socketsJoin("x"), as the emitter publishes it.
    strings attachments;
    auto const join =
        message_ok(R"({"type":2,"opts":{"rooms":[1.5],"except":[]},"rooms":["x"]})", attachments);
    CHECK(wire::selection_from(join.if_contains("opts"))->rooms == strings{"1.5"});
    auto const many = js(R"([0.1, -0.5, 2.25])");
    CHECK(wire::rooms_from(&many) == strings{"0.1", "-0.5", "2.25"});
}

TEST_CASE("redis wire: decode_broadcast refuses what is not a broadcast, and never throws",
          "[redis][wire]") {
    for (auto const& r : refused_rows) {
        INFO(r.value);
        CHECK(outcome(from_hex(r.hex)) == malformed);
    }
}

TEST_CASE("redis wire: decode_broadcast refuses bad MessagePack, and never throws",
          "[redis][wire]") {
    // Every prefix of a valid broadcast is truncated.
    for (auto hex : {node_broadcasts[0].hex, node_broadcasts[3].hex, node_broadcasts[4].hex,
                     emitter_broadcasts[3].hex}) {
        auto const bytes = from_hex(hex);
        REQUIRE(outcome(bytes) == "ok");
        for (std::size_t i = 0; i < bytes.size(); ++i) {
            INFO(to_hex(bytes.substr(0, i)));
            CHECK(outcome(bytes.substr(0, i)) == message_of(mp::error::truncated));
        }
        INFO(hex);
        CHECK(outcome(bytes + '\xc0') == message_of(mp::error::trailing_bytes));
    }
    CHECK(outcome("") == message_of(mp::error::truncated));
    CHECK(outcome("\xc1") == message_of(mp::error::unsupported_type));
    CHECK(outcome("{}") == message_of(mp::error::trailing_bytes)); // JSON is not a broadcast
    // ["emitter", {type: 2, data: ["ev", "\xff"], nsp: "/"}, ...], a string that is not UTF-8
    // (which notepack.io never writes).
    CHECK(outcome(from_hex("93a7656d697474657283a47479706502a46461746192a26576a1ffa36e7370a12f"
                           "83a5726f6f6d7390a665786365707490a5666c61677380")) ==
          message_of(mp::error::invalid_utf8));

    // At most max_attachments Buffers.
    auto const two = from_hex(node_broadcasts[4].hex);
    CHECK(outcome(two, 2) == "ok");
    CHECK(outcome(two, 1) == message_of(mp::error::too_large));
    CHECK(outcome(from_hex(node_broadcasts[0].hex), 0) == "ok");

    // Arguments as deep as a client may send (64 levels of JSON in all) are read; far deeper
    // are refused.
    json::array deepest{"ev", nested(63)};
    REQUIRE(parse_json(json::serialize(deepest)));
    CHECK(outcome(wire::encode_broadcast("x", "/", deepest, {}, {})) == "ok");
    json::array const too_deep{"ev", nested(100)};
    CHECK(outcome(wire::encode_broadcast("x", "/", too_deep, {}, {})) ==
          message_of(mp::error::too_deep));
}

TEST_CASE("redis wire: encode_broadcast_request writes the Node adapter's broadcast with "
          "acknowledgements",
          "[redis][wire]") {
    for (auto const& r : node_requests) {
        INFO(r.call);
        auto const attachments = from_hex(r.attachments);
        auto const bytes = wire::encode_broadcast_request(
            "Ab3xYz", "Qw9eRt", r.nsp, js_array(r.args), attachments, r.opt, r.timeout);
        CHECK(to_hex(bytes) == r.hex);

        // And as the receiving node reads it.
        strings got;
        auto const req = message_ok(from_hex(r.hex), got);
        CHECK(wire::type_of(req) == static_cast<std::int64_t>(wire::request_type::broadcast));
        CHECK(wire::string_of(req, "uid") == "Ab3xYz");
        CHECK(wire::string_of(req, "requestId") == "Qw9eRt");
        auto const* packet = req.if_contains("packet");
        REQUIRE(packet);
        REQUIRE(packet->is_object());
        CHECK(wire::check_event_packet(packet->get_object()));
        CHECK(packet->at("data") == js_array(r.args));
        CHECK(packet->at("nsp") == json::value(r.nsp));
        CHECK(got == attachments);
        auto const sel = wire::selection_from(req.if_contains("opts"));
        REQUIRE(sel);
        CHECK(sel->rooms == r.opt.rooms);
        CHECK(sel->except == r.opt.except);
        CHECK(sel->is_volatile == r.opt.is_volatile);
        CHECK(sel->local);
        CHECK(req.at("opts").at("flags").at("timeout") ==
              json::value(static_cast<std::int64_t>(r.timeout.count())));
    }

    // Node's flags in the order they were set: the same object.
    auto const& r = node_requests[1];
    auto const attachments = from_hex(r.attachments);
    auto const ours = wire::encode_broadcast_request("Ab3xYz", "Qw9eRt", r.nsp, js_array(r.args),
                                                     attachments, r.opt, r.timeout);
    CHECK(ours != from_hex(node_request_timeout_first));
    strings a, b;
    auto const x = wire::decode_message(ours, a, 10);
    auto const y = wire::decode_message(from_hex(node_request_timeout_first), b, 10);
    REQUIRE(x);
    REQUIRE(y);
    CHECK(js_equal(*x, *y));
    CHECK(a == b);
}

TEST_CASE("redis wire: encode_broadcast_ack writes the Node adapter's answer", "[redis][wire]") {
    for (auto const& r : node_acks) {
        INFO(r.answer);
        auto const answer = js(r.answer);
        CHECK(to_hex(wire::encode_broadcast_ack(r.request_id, answer)) == r.hex);
        strings attachments;
        auto const res = message_ok(from_hex(r.hex), attachments);
        CHECK(wire::type_of(res) == static_cast<std::int64_t>(wire::request_type::broadcast_ack));
        CHECK(wire::string_of(res, "requestId") == r.request_id);
        CHECK(res.at("packet") == answer);
        CHECK(attachments.empty());
    }
    // A binary answer: its Buffer as an attachment.
    strings attachments;
    auto const res = message_ok(from_hex(node_binary_ack), attachments);
    CHECK(wire::type_of(res) == 9);
    CHECK(wire::string_of(res, "requestId") == "Rq0006");
    CHECK(res.at("packet") == js(R"({"_placeholder":true,"num":0})"));
    CHECK(attachments == strings{"\x09\x08"});
}

TEST_CASE("redis wire: decode_message reads the requests Node publishes as JSON", "[redis][wire]") {
    strings attachments;
    SECTION("allRooms") {
        auto const m = message_ok(R"({"uid":"Ab3xYz","requestId":"Qw9eRt","type":1})", attachments);
        CHECK(wire::type_of(m) == static_cast<std::int64_t>(wire::request_type::all_rooms));
        CHECK(wire::string_of(m, "uid") == "Ab3xYz");
        CHECK(wire::string_of(m, "requestId") == "Qw9eRt");
    }
    SECTION("sockets (the form the adapter reads)") {
        auto const m = message_ok(R"({"uid":"Other1","requestId":"Rq0003","type":0,"rooms":["r"]})",
                                  attachments);
        CHECK(wire::type_of(m) == static_cast<std::int64_t>(wire::request_type::sockets));
        CHECK(wire::rooms_from(m.if_contains("rooms")) == strings{"r"});
    }
    SECTION("fetchSockets: io.in(\"r\").except(\"s\").fetchSockets()") {
        auto const m = message_ok(R"({"uid":"Ab3xYz","requestId":"Qw9eRt","type":5,)"
                                  R"("opts":{"rooms":["r"],"except":["s"]}})",
                                  attachments);
        CHECK(wire::type_of(m) == static_cast<std::int64_t>(wire::request_type::remote_fetch));
        CHECK(wire::string_of(m, "requestId") == "Qw9eRt");
        auto const sel = wire::selection_from(m.if_contains("opts"));
        REQUIRE(sel);
        CHECK(sel->rooms == strings{"r"});
        CHECK(sel->except == strings{"s"});
        CHECK(!sel->is_volatile);
        CHECK(sel->local);
    }
    SECTION("socketsJoin: io.in(\"r\").except(\"s\").socketsJoin([\"x\", \"y\"])") {
        auto const m = message_ok(R"({"uid":"Ab3xYz","type":2,"opts":{"rooms":["r"],)"
                                  R"("except":["s"]},"rooms":["x","y"]})",
                                  attachments);
        CHECK(wire::type_of(m) == static_cast<std::int64_t>(wire::request_type::remote_join));
        CHECK(wire::string_of(m, "requestId").empty());
        CHECK(wire::selection_from(m.if_contains("opts"))->rooms == strings{"r"});
        CHECK(wire::selection_from(m.if_contains("opts"))->except == strings{"s"});
        CHECK(wire::rooms_from(m.if_contains("rooms")) == strings{"x", "y"});
    }
    SECTION("socketsLeave: io.in(\"r\").socketsLeave(\"x\")") {
        auto const m = message_ok(
            R"({"uid":"Ab3xYz","type":3,"opts":{"rooms":["r"],"except":[]},"rooms":["x"]})",
            attachments);
        CHECK(wire::type_of(m) == static_cast<std::int64_t>(wire::request_type::remote_leave));
        CHECK(wire::selection_from(m.if_contains("opts"))->rooms == strings{"r"});
        CHECK(wire::rooms_from(m.if_contains("rooms")) == strings{"x"});
    }
    SECTION("disconnectSockets: io.except(\"s\").disconnectSockets(true)") {
        auto const m = message_ok(
            R"({"uid":"Ab3xYz","type":4,"opts":{"rooms":[],"except":["s"]},"close":true})",
            attachments);
        CHECK(wire::type_of(m) == static_cast<std::int64_t>(wire::request_type::remote_disconnect));
        auto const sel = wire::selection_from(m.if_contains("opts"));
        REQUIRE(sel);
        CHECK(sel->rooms.empty());
        CHECK(sel->except == strings{"s"});
        CHECK(m.at("close") == json::value(true));
    }
    SECTION("serverSideEmit, without and with an acknowledgement") {
        auto const m =
            message_ok(R"({"uid":"Ab3xYz","type":6,"data":["hello",1,{"a":[2]}]})", attachments);
        CHECK(wire::type_of(m) == static_cast<std::int64_t>(wire::request_type::server_side_emit));
        CHECK(wire::string_of(m, "requestId").empty());
        CHECK(m.at("data") == js(R"(["hello",1,{"a":[2]}])"));
        auto const a = message_ok(
            R"({"uid":"Ab3xYz","requestId":"Qw9eRt","type":6,"data":["hello",1]})", attachments);
        CHECK(wire::type_of(a) == 6);
        CHECK(wire::string_of(a, "requestId") == "Qw9eRt");
    }
    SECTION("the emitter's requests: no uid, or \"emitter\"") {
        // emitter.in(5).except("s").socketsJoin(["x", "y"])
        auto const join = message_ok(
            R"({"type":2,"opts":{"rooms":[5],"except":["s"]},"rooms":["x","y"]})", attachments);
        CHECK(wire::type_of(join) == 2);
        CHECK(wire::string_of(join, "uid").empty());
        CHECK(wire::selection_from(join.if_contains("opts"))->rooms == strings{"5"});
        CHECK(wire::rooms_from(join.if_contains("rooms")) == strings{"x", "y"});
        // emitter.in("r").socketsLeave("x"), emitter.in("r").disconnectSockets(true)
        auto const leave = message_ok(
            R"({"type":3,"opts":{"rooms":["r"],"except":[]},"rooms":["x"]})", attachments);
        CHECK(wire::type_of(leave) == 3);
        auto const disconnect = message_ok(
            R"({"type":4,"opts":{"rooms":["r"],"except":[]},"close":true})", attachments);
        CHECK(wire::type_of(disconnect) == 4);
        CHECK(wire::selection_from(disconnect.if_contains("opts"))->rooms == strings{"r"});
        // emitter.serverSideEmit("hello", 1, {a: [2]})
        auto const emit =
            message_ok(R"({"uid":"emitter","type":6,"data":["hello",1,{"a":[2]}]})", attachments);
        CHECK(wire::type_of(emit) == 6);
        CHECK(wire::string_of(emit, "uid") == "emitter");
    }
    SECTION("responses") {
        auto const rooms = message_ok(
            R"({"requestId":"Rq0001","rooms":["Ajo1KPONWRjvT7p9AAAA","r","s"]})", attachments);
        CHECK(wire::type_of(rooms) == -1);
        CHECK(wire::string_of(rooms, "requestId") == "Rq0001");
        CHECK(wire::rooms_from(rooms.if_contains("rooms")) ==
              strings{"Ajo1KPONWRjvT7p9AAAA", "r", "s"});
        auto const sockets =
            message_ok(R"({"requestId":"Rq0003","sockets":["Ajo1KPONWRjvT7p9AAAA"]})", attachments);
        CHECK(wire::type_of(sockets) == -1);
        CHECK(sockets.at("sockets") == js(R"(["Ajo1KPONWRjvT7p9AAAA"])"));
        auto const emitted =
            message_ok(R"({"type":6,"requestId":"Rq0004","data":{"ok":1}})", attachments);
        CHECK(wire::type_of(emitted) == 6);
        CHECK(emitted.at("data") == js(R"({"ok":1})"));
        auto const count =
            message_ok(R"({"type":8,"requestId":"Rq0005","clientCount":1})", attachments);
        CHECK(wire::type_of(count) ==
              static_cast<std::int64_t>(wire::request_type::broadcast_client_count));
        CHECK(count.at("clientCount") == json::value(1));
    }
    CHECK(attachments.empty());
}

TEST_CASE("redis wire: decode_message reads requests in MessagePack", "[redis][wire]") {
    strings attachments;
    // {uid: "Other1", requestId: "Rq0001", type: 1}
    auto const all = message_ok(from_hex("83a3756964a64f7468657231a9726571756573744964a65271"
                                         "30303031a47479706501"),
                                attachments);
    CHECK(wire::type_of(all) == 1);
    CHECK(wire::string_of(all, "uid") == "Other1");
    CHECK(wire::string_of(all, "requestId") == "Rq0001");
    CHECK(attachments.empty());
    // {uid: "Other1", type: 6, data: ["hello", Buffer.from([1, 2])]}
    auto const bytes = from_hex("83a3756964a64f7468657231a47479706506a46461746192a568656c6c6f"
                                "c4020102");
    auto const emit = message_ok(bytes, attachments);
    CHECK(wire::type_of(emit) == 6);
    CHECK(emit.at("data") == js(R"(["hello",{"_placeholder":true,"num":0}])"));
    CHECK(attachments == strings{"\x01\x02"});
    CHECK(message_outcome(bytes, 0) == message_of(mp::error::too_large));
}

TEST_CASE("redis wire: decode_message refuses what is not an object, and never throws",
          "[redis][wire]") {
    for (std::string_view text : {"{", R"({"type":1)", R"({"type":1}x)", R"({"type":1} {})",
                                  R"({'type':1})", "{\"a\":\"\xff\"}", R"({"a":01})"}) {
        INFO(text);
        CHECK(message_outcome(text) == invalid_json);
    }
    // MessagePack that is not a map.
    for (auto hex : {"90", "c0", "a161", "01", "9183a474797065"}) {
        INFO(hex);
        auto const o = message_outcome(from_hex(hex));
        CHECK(o != "ok");
        CHECK(o.rfind("threw", 0) == std::string::npos);
    }
    CHECK(message_outcome(from_hex("90")) == malformed);
    CHECK(message_outcome(from_hex("c0")) == malformed);
    CHECK(message_outcome(from_hex("a161")) == malformed);
    CHECK(message_outcome("") == message_of(mp::error::truncated));
    // JSON that does not start with "{" is read as MessagePack, as the adapter reads it.
    CHECK(message_outcome(R"([1])") == message_of(mp::error::trailing_bytes));
    CHECK(message_outcome(R"( {"type":1})") == message_of(mp::error::trailing_bytes));
    CHECK(message_outcome("7") == malformed);
    // Every prefix of a MessagePack request is truncated.
    auto const request = from_hex(node_requests[1].hex);
    for (std::size_t i = 1; i < request.size(); ++i) {
        INFO(i);
        CHECK(message_outcome(request.substr(0, i)) == message_of(mp::error::truncated));
    }
}

// JSON from other servers is read as a client's is (protocol::parse_json): a payload as deep as
// a client may send still fits in a request around it, and numbers are the nearest double, as
// JSON.parse reads them (Boost 1.81's parser reads -97.57019231092363 as -97.570192310923645).
TEST_CASE("redis wire: decode_message reads JSON as roomcast reads a client's", "[redis][wire]") {
    // serverSideEmit("ev", x) where x is as deep as a client may send (64 levels in all).
    json::array const data{"ev", nested(63)};
    REQUIRE(parse_json(json::serialize(data)));
    json::object const request{{"uid", "Other1"}, {"type", 6}, {"data", data}};
    strings attachments;
    CHECK(message_outcome(mp::encode(request)) == "ok");
    CHECK(message_outcome(json::serialize(request)) == "ok");
    // JSON.stringify wrote each number as the shortest text that reads back as it.
    auto const r = wire::decode_message(
        R"({"uid":"Other1","type":6,"data":["ev",-97.57019231092363,2.2250738585072011e-308]})",
        attachments, 10);
    REQUIRE(r);
    CHECK(shortest(r->at("data").at(1).as_double()) == "-97.57019231092363");
    CHECK(shortest(r->at("data").at(2).as_double()) == "2.225073858507201e-308");
}

TEST_CASE("redis wire: type_of and string_of", "[redis][wire]") {
    CHECK(wire::type_of(js_object(R"({"type":7})")) == 7);
    CHECK(wire::type_of(js_object(R"({"type":0})")) == 0);
    CHECK(wire::type_of(js_object(R"({"type":9.0})")) == 9);
    CHECK(wire::type_of(js_object(R"({"type":"7"})")) == -1);
    CHECK(wire::type_of(js_object(R"({"type":null})")) == -1);
    CHECK(wire::type_of(js_object(R"({"type":[7]})")) == -1);
    CHECK(wire::type_of(js_object(R"({})")) == -1);
    CHECK(wire::string_of(js_object(R"({"uid":"Ab3xYz"})"), "uid") == "Ab3xYz");
    CHECK(wire::string_of(js_object(R"({"uid":5})"), "uid").empty());
    CHECK(wire::string_of(js_object(R"({"uid":null})"), "uid").empty());
    CHECK(wire::string_of(js_object(R"({})"), "uid").empty());
    CHECK(wire::string_of(js_object(R"({"requestId":""})"), "requestId").empty());
}

// A type that is no whole number is no request type, as the Node adapter's
// `switch (request.type)` matches no case for it: never truncated to one ({"type": 2.5} is not
// remote_join), and a huge one is never cast (which would be undefined behaviour).
TEST_CASE("redis wire: type_of is -1 for a number that is no request type", "[redis][wire]") {
    CHECK(wire::type_of(js_object(R"({"type":2.5})")) == -1);
    CHECK(wire::type_of(js_object(R"({"type":-0.5})")) == -1);
    CHECK(wire::type_of(js_object(R"({"type":1e300})")) == -1);
}

TEST_CASE("redis wire: selection_from and rooms_from", "[redis][wire]") {
    auto const none = wire::selection_from(nullptr);
    REQUIRE(none);
    CHECK(none->rooms.empty());
    CHECK(none->except.empty());
    CHECK(!none->is_volatile);
    CHECK(none->local);

    // A malformed selection is refused, never read as "every socket".
    auto const not_object = js(R"(["r"])");
    CHECK_FALSE(wire::selection_from(&not_object));

    // A broadcast's options as the adapter writes them, with every flag socket.io sets.
    auto const full =
        js(R"({"rooms":["a",5,-2],"except":["s","t"],)"
           R"("flags":{"volatile":true,"compress":false,"timeout":5000,"local":true}})");
    auto const sel = wire::selection_from(&full);
    REQUIRE(sel);
    CHECK(sel->rooms == strings{"a", "5", "-2"});
    CHECK(sel->except == strings{"s", "t"});
    CHECK(sel->is_volatile);
    CHECK(sel->local);
    CHECK(sel->compress); // not read: roomcast does not compress frames

    for (auto text :
         {R"({"except":"s"})", R"({"rooms":{"0":"r"}})", R"({"rooms":["a",null]})",
          R"({"rooms":["a",{"x":1}]})", R"({"except":[true]})", R"({"rooms":[["b"]]})"}) {
        INFO(text);
        auto const v = js(text);
        CHECK_FALSE(wire::selection_from(&v));
    }
    for (auto text :
         {R"({"flags":{"volatile":"yes"}})", R"({"flags":{"volatile":1}})", R"({"flags":[true]})",
          R"({"flags":null,"rooms":null})", R"({"flags":{"volatile":false}})"}) {
        INFO(text);
        auto const v = js(text);
        auto const s = wire::selection_from(&v);
        REQUIRE(s);
        CHECK(s->rooms.empty());
        CHECK(s->except.empty());
        CHECK(!s->is_volatile);
        CHECK(s->local);
    }

    CHECK(wire::rooms_from(nullptr).empty());
    auto const not_array = js(R"("r")");
    CHECK(wire::rooms_from(&not_array).empty());
    auto const rooms = js(R"(["r","",0,-1,4294967296,"\u20ac",false,null,{},[]])");
    CHECK(wire::rooms_from(&rooms) == strings{"r", "", "0", "-1", "4294967296", "\u20ac"});

    // room_array and selection write what rooms_from and selection_from read.
    broadcast_options const opt{.rooms = {"a", "b"}, .except = {"c"}};
    auto const arr = json::value(wire::room_array(opt.rooms));
    CHECK(wire::rooms_from(&arr) == opt.rooms);
    auto const written = json::value(wire::selection(opt));
    CHECK(written == js(R"({"rooms":["a","b"],"except":["c"]})"));
    auto const back = wire::selection_from(&written);
    REQUIRE(back);
    CHECK(back->rooms == opt.rooms);
    CHECK(back->except == opt.except);
}
