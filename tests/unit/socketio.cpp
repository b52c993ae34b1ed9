// Unit tests for roomcast/protocol/socketio.hpp: Socket.IO v5 packets
// (https://socket.io/docs/v4/socket-io-protocol/) with the acceptance rules of the reference
// parser (socket.io-parser 4.x), binary placeholders and the binary_assembler.
#include "catch.hpp"

#include <roomcast/protocol/socketio.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace json = boost::json;
namespace sio = roomcast::protocol::socketio;
using roomcast::protocol::error;
using roomcast::protocol::parse_json;
using roomcast::protocol::serialize;

namespace {

template<class R>
std::string outcome(R const& r) {
    return r ? std::string("ok") : r.error().message();
}

std::string message_of(error e) {
    return make_error_code(e).message();
}

// The outcome of decoding `wire`, asserting that decoding does not throw.
std::string decode_outcome(std::string_view wire, sio::decode_limits const& limits = {}) {
    std::string out;
    REQUIRE_NOTHROW(out = outcome(sio::decode(wire, limits)));
    return out;
}

sio::packet decode_ok(std::string_view wire, sio::decode_limits const& limits = {}) {
    auto p = sio::decode(wire, limits);
    INFO("decoding " << wire << ": " << outcome(p));
    REQUIRE(p.has_value());
    return std::move(*p);
}

json::value js(std::string_view text) {
    auto v = parse_json(text);
    REQUIRE(v);
    return std::move(*v);
}

int type_digit(sio::packet_type t) {
    return static_cast<int>(t);
}

} // namespace

TEST_CASE("socketio: the protocol's examples encode and decode exactly", "[socketio]") {
    struct row {
        std::string_view wire;
        sio::packet_type type;
        std::string_view nsp;
        std::optional<std::uint64_t> id;
        std::string_view data; // JSON text, empty for none
        std::size_t attachments;
    };
    using t = sio::packet_type;
    row const rows[] = {
        {"0", t::connect, "/", {}, "", 0},
        {R"(0{"token":"123"})", t::connect, "/", {}, R"({"token":"123"})", 0},
        {R"(0/admin,{"token":"123"})", t::connect, "/admin", {}, R"({"token":"123"})", 0},
        {R"(0{"sid":"oSO0OpakMV_3jnilAAAA"})",
         t::connect,
         "/",
         {},
         R"({"sid":"oSO0OpakMV_3jnilAAAA"})",
         0},
        {"1", t::disconnect, "/", {}, "", 0},
        {"1/admin,", t::disconnect, "/admin", {}, "", 0},
        {R"(2["hello",1])", t::event, "/", {}, R"(["hello",1])", 0},
        {R"(2/admin,456["project:delete",123])", t::event, "/admin", 456,
         R"(["project:delete",123])", 0},
        {R"(212["foo"])", t::event, "/", 12, R"(["foo"])", 0},
        {"3/admin,456[]", t::ack, "/admin", 456, "[]", 0},
        {R"(312["bar"])", t::ack, "/", 12, R"(["bar"])", 0},
        {R"(4{"message":"Not authorized"})",
         t::connect_error,
         "/",
         {},
         R"({"message":"Not authorized"})",
         0},
        {R"(4/admin,"Not authorized")", t::connect_error, "/admin", {}, R"("Not authorized")", 0},
        {R"(51-["hello",{"_placeholder":true,"num":0}])",
         t::binary_event,
         "/",
         {},
         R"(["hello",{"_placeholder":true,"num":0}])",
         1},
        {R"(61-/admin,456[{"_placeholder":true,"num":0}])", t::binary_ack, "/admin", 456,
         R"([{"_placeholder":true,"num":0}])", 1},
    };
    for (auto const& r : rows) {
        CAPTURE(r.wire);
        auto const p = decode_ok(r.wire);
        CHECK(type_digit(p.type) == type_digit(r.type));
        CHECK(p.nsp == r.nsp);
        CHECK(p.id == r.id);
        if (r.data.empty())
            CHECK(p.data.is_null());
        else
            CHECK(p.data == js(r.data));
        CHECK(p.attachment_count == r.attachments);
        CHECK(p.attachments.empty());
        CHECK(p.is_binary() == (r.attachments > 0));
        CHECK(sio::encode(p) == r.wire);

        // The same packet built by hand encodes the same.
        sio::packet built;
        built.type = r.type;
        built.nsp = std::string(r.nsp);
        built.id = r.id;
        if (!r.data.empty())
            built.data = js(r.data);
        built.attachment_count = r.attachments;
        CHECK(sio::encode(built) == r.wire);
    }
}

TEST_CASE("socketio: every packet type round-trips with and without namespace and ack id",
          "[socketio]") {
    struct kind {
        sio::packet_type type;
        std::string_view data;
        std::size_t attachments;
    };
    kind const kinds[] = {
        {sio::packet_type::connect, R"({"token":"abc","n":1.5})", 0},
        {sio::packet_type::connect, "", 0},
        {sio::packet_type::disconnect, "", 0},
        {sio::packet_type::event, R"(["chat",{"text":"hi, \"you\"","n":[1,2]},null])", 0},
        {sio::packet_type::event, R"([42,"numbered"])", 0},
        {sio::packet_type::ack, "[]", 0},
        {sio::packet_type::ack, R"([{"ok":true},"a,b"])", 0},
        {sio::packet_type::connect_error, R"({"message":"nope","data":{"code":4}})", 0},
        {sio::packet_type::connect_error, R"("nope")", 0},
        {sio::packet_type::binary_event,
         R"(["upload",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])", 2},
        {sio::packet_type::binary_ack, R"([{"_placeholder":true,"num":0}])", 1},
    };
    std::string_view const namespaces[] = {"/", "/admin", "/a/b-c_d.e", "/with space"};
    std::optional<std::uint64_t> const ids[] = {std::nullopt, 0,          7,
                                                456,          1234567890, sio::max_ack_id};
    for (auto const& k : kinds) {
        for (auto nsp : namespaces) {
            for (auto id : ids) {
                sio::packet p;
                p.type = k.type;
                p.nsp = std::string(nsp);
                p.id = id;
                if (!k.data.empty())
                    p.data = js(k.data);
                p.attachment_count = k.attachments;
                auto const wire = sio::encode(p);
                CAPTURE(wire);
                auto const back = decode_ok(wire);
                CHECK(type_digit(back.type) == type_digit(p.type));
                CHECK(back.nsp == p.nsp);
                CHECK(back.id == p.id);
                CHECK(back.data == p.data);
                CHECK(back.attachment_count == p.attachment_count);
                CHECK(sio::encode(back) == wire);
            }
        }
    }
}

TEST_CASE("socketio: a namespace may end at the end of the packet", "[socketio][namespace]") {
    // "40/admin" on the Engine.IO wire: the reference parser reads the namespace up to a comma
    // or the end of the packet.
    auto const c = decode_ok("0/admin");
    CHECK(c.type == sio::packet_type::connect);
    CHECK(c.nsp == "/admin");
    CHECK(c.data.is_null());
    CHECK_FALSE(c.id);
    CHECK(sio::encode(c) == "0/admin,");

    auto const d = decode_ok("1/admin");
    CHECK(d.type == sio::packet_type::disconnect);
    CHECK(d.nsp == "/admin");

    CHECK(decode_ok("0/admin,").nsp == "/admin");
    CHECK(decode_ok("0/,{}").nsp == "/");
    CHECK(decode_ok("2/chat,[\"a\"]").nsp == "/chat");
}

TEST_CASE("socketio: packets without payload", "[socketio]") {
    // CONNECT, DISCONNECT and CONNECT_ERROR may carry nothing.
    for (std::string_view wire : {"0", "1", "4", "0/admin,", "1/admin,"}) {
        CAPTURE(wire);
        auto const p = decode_ok(wire);
        CHECK(p.data.is_null());
        CHECK(sio::encode(p) == wire);
    }
    // An ACK without arguments has an empty argument list.
    for (std::string_view wire : {"3", "39", "3/admin,9"}) {
        CAPTURE(wire);
        auto const p = decode_ok(wire);
        REQUIRE(p.data.is_array());
        CHECK(p.data.get_array().empty());
    }
    // An EVENT names itself: without a payload it is malformed (the reference parser lets it
    // through and the server then emits an event called `undefined`).
    for (std::string_view wire : {"2", "21", "2/admin,", "2/admin,7", "51-"}) {
        CAPTURE(wire);
        CHECK(decode_outcome(wire) == message_of(error::invalid_payload));
    }
}

TEST_CASE("socketio: event names", "[socketio][payload]") {
    SECTION("a number is a valid event name") {
        auto const p = decode_ok("2[1,\"x\"]");
        CHECK(p.data == js("[1,\"x\"]"));
        CHECK(decode_outcome("2[-1.5]") == "ok");
        CHECK(decode_outcome("51-[7,{\"_placeholder\":true,\"num\":0}]") == "ok");
    }
    SECTION("ordinary strings are valid names, reserved ones are not") {
        for (std::string_view name : {"hello", "", "connection", "Connect", "message", "error",
                                      "ping", "connect ", "disconnected"}) {
            CAPTURE(name);
            CHECK(decode_outcome("2[" + serialize(json::value(name)) + "]") == "ok");
        }
        for (std::string_view name : {"connect", "connect_error", "disconnect", "disconnecting",
                                      "newListener", "removeListener"}) {
            CAPTURE(name);
            auto const payload = "[" + serialize(json::value(name)) + ",1]";
            CHECK(decode_outcome("2" + payload) == message_of(error::invalid_payload));
            CHECK(decode_outcome("2/admin,5" + payload) == message_of(error::invalid_payload));
            CHECK(decode_outcome("51-" + payload) == message_of(error::invalid_payload));
            // An ACK's first element is not an event name.
            CHECK(decode_outcome("3" + payload) == "ok");
        }
    }
    SECTION("other first elements are not event names") {
        for (std::string_view payload :
             {"[null]", "[true]", "[{}]", "[[\"a\"]]", "[{\"name\":\"a\"}]"}) {
            CAPTURE(payload);
            CHECK(decode_outcome("2" + std::string(payload)) == message_of(error::invalid_payload));
        }
    }
}

TEST_CASE("socketio: malformed packets give the right error and never throw",
          "[socketio][errors]") {
    struct row {
        std::string_view wire;
        error e;
    };
    row const rows[] = {
        {"", error::empty_packet},
        {"7", error::unknown_packet_type},
        {"8[\"a\"]", error::unknown_packet_type},
        {"x", error::unknown_packet_type},
        {"/admin,", error::unknown_packet_type},
        {"[\"a\"]", error::unknown_packet_type},
        {" 2[\"a\"]", error::unknown_packet_type},
        // JSON
        {"2[", error::invalid_json},
        {"2[\"a\",]", error::invalid_json},
        {"2/admin,[", error::invalid_json},
        {"2/admin,1{", error::invalid_json},
        {"2['a']", error::invalid_json},
        {"2[\"a\"]x", error::invalid_json},
        {"0{\"a\":\xff}", error::invalid_json},
        {"2[\"\xc3\"]", error::invalid_json},
        // payload shape
        {"2{}", error::invalid_payload},
        {"2[]", error::invalid_payload},
        {"2\"hello\"", error::invalid_payload},
        {"2null", error::invalid_payload},
        {"2[\"connect\"]", error::invalid_payload},
        {"0[]", error::invalid_payload},
        {"0\"token\"", error::invalid_payload},
        {"0null", error::invalid_payload},
        {"0/admin,[]", error::invalid_payload},
        {"1{}", error::invalid_payload},
        {"1[]", error::invalid_payload},
        {"1\"bye\"", error::invalid_payload},
        {"1null", error::invalid_payload},
        {"1/admin,{}", error::invalid_payload},
        {"3{}", error::invalid_payload},
        {"3\"a\"", error::invalid_payload},
        {"3null", error::invalid_payload},
        {"4[]", error::invalid_payload},
        {"4[\"a\"]", error::invalid_payload},
        {"4null", error::invalid_payload},
        {"4true", error::invalid_payload},
        {"61-{}", error::invalid_payload},
        {"51-[]", error::invalid_payload},
        // attachment header
        {"5[\"a\"]", error::invalid_attachments},
        {"5", error::invalid_attachments},
        {"6", error::invalid_attachments},
        {"5-[\"a\"]", error::invalid_attachments},
        {"5x-[\"a\"]", error::invalid_attachments},
        {"51x-[\"a\"]", error::invalid_attachments},
        {"5 1-[\"a\"]", error::invalid_attachments},
        {"5+1-[\"a\"]", error::invalid_attachments},
        {"6/admin,1-[]", error::invalid_attachments},
        {"5[\"a-b\"]", error::invalid_attachments},
        {"511-[\"a\"]", error::invalid_attachments},
        {"5999-[\"a\"]", error::invalid_attachments},
        {"599999999999999999999999-[\"a\"]", error::invalid_attachments},
        // ack id
        {"29007199254740992[\"a\"]", error::invalid_ack_id},
        {"2/admin,9007199254740992[\"a\"]", error::invalid_ack_id},
        {"318446744073709551616[]", error::invalid_ack_id},
        {"399999999999999999999999999999999999999[]", error::invalid_ack_id},
    };
    for (auto const& r : rows) {
        CAPTURE(r.wire);
        CHECK(decode_outcome(r.wire) == message_of(r.e));
    }
}

TEST_CASE("socketio: every _placeholder object of a binary packet is a placeholder",
          "[socketio][binary][errors]") {
    // As the reference parser reads them: an object with "_placeholder": true stands for an
    // attachment, and its num must name one, or the whole packet is refused. Otherwise a
    // look-alike would pass as data and turn into a real placeholder when forwarded.
    for (std::string_view wire :
         {R"(51-["f",{"_placeholder":true,"num":1.0}])",
          R"(51-["f",{"_placeholder":true,"num":"0"}])", R"(51-["f",{"_placeholder":true}])",
          R"(51-["f",{"_placeholder":true,"num":-1}])",
          R"(51-["f",{"_placeholder":true,"num":0.5}])",
          R"(51-["f",{"_placeholder":true,"num":1e300}])",
          R"(52-["f",{"_placeholder":true,"num":0},[{"_placeholder":true,"num":null}]])",
          R"(51-["f",{"_placeholder":true,"num":0,"extra":1}])",
          R"(61-[{"_placeholder":true,"num":1}])"}) {
        CAPTURE(wire);
        CHECK(decode_outcome(wire) == message_of(error::invalid_attachments));
    }
    SECTION("a whole number in any spelling is a placeholder's index") {
        auto const p = decode_ok(R"(51-["f",{"_placeholder":true,"num":0.0}])");
        CHECK(sio::placeholder_index(p.data.get_array()[1]) == 0u);
        CHECK(sio::encode(p) == R"(51-["f",{"_placeholder":true,"num":0}])");
    }
    SECTION("\"_placeholder\" other than true is data, and so is anything outside binary packets") {
        for (std::string_view wire :
             {R"(51-["f",{"_placeholder":false,"num":7},{"_placeholder":true,"num":0}])",
              R"(51-["f",{"_placeholder":"true","num":7},{"_placeholder":true,"num":0}])",
              R"(2["f",{"_placeholder":true,"num":"x"}])", R"(3[{"_placeholder":true,"num":9}])"}) {
            CAPTURE(wire);
            CHECK(decode_outcome(wire) == "ok");
        }
        CHECK_FALSE(sio::placeholder_index(js(R"({"_placeholder":false,"num":0})")));
    }
}

TEST_CASE("socketio: the attachment limit", "[socketio][binary][errors]") {
    CHECK(decode_outcome("510-[\"a\"]") == "ok"); // the default limit is 10
    CHECK(decode_outcome("511-[\"a\"]") == message_of(error::invalid_attachments));
    CHECK(decode_outcome("610-[]") == "ok");
    CHECK(decode_outcome("611-[]") == message_of(error::invalid_attachments));

    sio::decode_limits two;
    two.max_attachments = 2;
    CHECK(decode_outcome("52-[\"a\"]", two) == "ok");
    CHECK(decode_outcome("53-[\"a\"]", two) == message_of(error::invalid_attachments));
    CHECK(decode_outcome("63-/admin,1[]", two) == message_of(error::invalid_attachments));

    auto const p = decode_ok("507-/x,3[\"a\"]");
    CHECK(p.attachment_count == 7);
    CHECK(p.nsp == "/x");
    CHECK(p.id == 3u);
}

TEST_CASE("socketio: ack ids up to 2^53 - 1", "[socketio][ack]") {
    CHECK(sio::max_ack_id == 9007199254740991u);
    auto const p = decode_ok("29007199254740991[\"a\"]");
    CHECK(p.id == sio::max_ack_id);
    CHECK(decode_ok("3/admin,0[]").id == 0u);
    CHECK(decode_ok("3007[]").id == 7u); // leading zeros, as Number("007")
    CHECK(decode_outcome("29007199254740992[\"a\"]") == message_of(error::invalid_ack_id));
}

TEST_CASE("socketio: namespace length limit", "[socketio][namespace][errors]") {
    sio::decode_limits const defaults;
    REQUIRE(defaults.max_namespace == 256);
    std::string const at_limit = "/" + std::string(255, 'n');   // 256 bytes
    std::string const over_limit = "/" + std::string(256, 'n'); // 257 bytes

    auto const p = decode_ok("2" + at_limit + ",[\"a\"]");
    CHECK(p.nsp == at_limit);
    CHECK(decode_ok("0" + at_limit).nsp == at_limit);

    CHECK(decode_outcome("2" + over_limit + ",[\"a\"]") == message_of(error::invalid_namespace));
    CHECK(decode_outcome("0" + over_limit) == message_of(error::invalid_namespace));
    CHECK(decode_outcome("61-" + over_limit + ",1[]") == message_of(error::invalid_namespace));
    // A namespace that never ends runs to the end of the packet and is judged by its length.
    CHECK(decode_outcome("2/" + std::string(100'000, 'x')) == message_of(error::invalid_namespace));

    sio::decode_limits small;
    small.max_namespace = 6;
    CHECK(decode_ok("2/admin,[\"a\"]", small).nsp == "/admin");
    CHECK(decode_outcome("2/admins,[\"a\"]", small) == message_of(error::invalid_namespace));
}

TEST_CASE("socketio: binary packets announce their attachments", "[socketio][binary]") {
    sio::packet p;
    p.type = sio::packet_type::binary_event;
    p.data = json::array{"file", sio::make_placeholder(0), sio::make_placeholder(1)};
    p.attachment_count = 2;
    CHECK(sio::encode(p) ==
          R"(52-["file",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])");

    // Once attachments are held, their number is what is announced.
    p.attachments = {"a", "b", "c"};
    CHECK(sio::encode(p).substr(0, 3) == "53-");

    sio::packet ack;
    ack.type = sio::packet_type::binary_ack;
    ack.nsp = "/admin";
    ack.id = 456;
    ack.data = json::array{sio::make_placeholder(0)};
    ack.attachments = {std::string("\x00\x01", 2)};
    CHECK(sio::encode(ack) == R"(61-/admin,456[{"_placeholder":true,"num":0}])");

    std::string out = "4";
    sio::encode_to(out, ack);
    CHECK(out == R"(461-/admin,456[{"_placeholder":true,"num":0}])");

    CHECK(ack.is_binary());
    CHECK_FALSE(sio::packet{}.is_binary());
}

TEST_CASE("socketio: placeholders", "[socketio][binary]") {
    CHECK(serialize(sio::make_placeholder(0)) == R"({"_placeholder":true,"num":0})");
    CHECK(serialize(sio::make_placeholder(12)) == R"({"_placeholder":true,"num":12})");

    for (std::size_t n : {0u, 1u, 9u, 1000u}) {
        CAPTURE(n);
        CHECK(sio::placeholder_index(sio::make_placeholder(n)) == n);
        // As parsed from the wire (an int64, not the uint64 make_placeholder stores).
        CHECK(sio::placeholder_index(js(serialize(sio::make_placeholder(n)))) == n);
    }
    CHECK(sio::placeholder_index(js(R"({"num":3,"_placeholder":true})")) == 3u);

    for (std::string_view not_one : {
             R"({"_placeholder":false,"num":0})",
             R"({"_placeholder":1,"num":0})",
             R"({"_placeholder":"true","num":0})",
             R"({"_placeholder":true})",
             R"({"num":0})",
             R"({"_placeholder":true,"num":-1})",
             R"({"_placeholder":true,"num":1.5})",
             R"({"_placeholder":true,"num":1e300})",
             R"({"_placeholder":true,"num":"0"})",
             R"({"_placeholder":true,"num":null})",
             R"({"_placeholder":true,"num":0,"extra":1})",
             R"({"_placeholder":true,"nam":0})",
             R"([{"_placeholder":true,"num":0}])",
             R"("_placeholder")",
             "0",
             "null",
             "{}",
         }) {
        CAPTURE(not_one);
        CHECK_FALSE(sio::placeholder_index(js(not_one)));
    }
}

TEST_CASE("socketio: binary_assembler", "[socketio][binary]") {
    sio::binary_assembler a;
    CHECK_FALSE(a.waiting());

    SECTION("a packet with no attachment is complete at once") {
        sio::packet p;
        p.type = sio::packet_type::binary_event;
        p.data = js("[\"nothing\"]");
        p.attachment_count = 0;
        auto done = a.start(std::move(p));
        REQUIRE(done);
        CHECK(done->data == js("[\"nothing\"]"));
        CHECK(done->attachments.empty());
        CHECK_FALSE(a.waiting());
    }
    SECTION("a packet with two attachments is complete after the second") {
        auto p = decode_ok(
            R"(52-/admin,5["upload",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])");
        CHECK_FALSE(a.start(std::move(p)));
        CHECK(a.waiting());

        auto first = a.add(std::string("\x00\x01", 2));
        REQUIRE(first.has_value());
        CHECK_FALSE(*first);
        CHECK(a.waiting());

        auto second = a.add("second");
        REQUIRE(second.has_value());
        REQUIRE(*second);
        auto const& done = **second;
        CHECK(done.type == sio::packet_type::binary_event);
        CHECK(done.nsp == "/admin");
        CHECK(done.id == 5u);
        REQUIRE(done.attachments.size() == 2);
        CHECK(done.attachments[0] == std::string("\x00\x01", 2));
        CHECK(done.attachments[1] == "second");
        CHECK(sio::placeholder_index(done.data.at(2)) == 1u);
        CHECK_FALSE(a.waiting());

        // The packet is complete: one more frame is unexpected.
        auto extra = a.add("third");
        CHECK(outcome(extra) == message_of(error::unexpected_attachment));
    }
    SECTION("a frame with nothing pending is unexpected") {
        auto r = a.add("bytes");
        CHECK(outcome(r) == message_of(error::unexpected_attachment));
        CHECK_FALSE(a.waiting());
    }
    SECTION("reset drops the pending packet") {
        CHECK_FALSE(a.start(decode_ok("61-3[{\"_placeholder\":true,\"num\":0}]")));
        CHECK(a.waiting());
        a.reset();
        CHECK_FALSE(a.waiting());
        CHECK(outcome(a.add("late")) == message_of(error::unexpected_attachment));
    }
    SECTION("the assembler can be used for one packet after another") {
        for (int round = 0; round < 3; ++round) {
            CAPTURE(round);
            CHECK_FALSE(a.start(decode_ok("61-3[{\"_placeholder\":true,\"num\":0}]")));
            auto r = a.add("x");
            REQUIRE(r.has_value());
            REQUIRE(*r);
            CHECK((*r)->type == sio::packet_type::binary_ack);
            CHECK((*r)->attachments == std::vector<std::string>{"x"});
        }
    }
}
