// Unit tests for roomcast/protocol/engineio.hpp: Engine.IO v4 packets, base64 and
// long-polling payloads (https://socket.io/docs/v4/engine-io-protocol/).
#include "catch.hpp"

#include <roomcast/protocol/engineio.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace eio = roomcast::protocol::engineio;
using roomcast::protocol::error;

namespace {

template<class R>
std::string outcome(R const& r) {
    return r ? std::string("ok") : r.error().message();
}

std::string message_of(error e) {
    return make_error_code(e).message();
}

std::string type_name(eio::packet_type t) {
    switch (t) {
    case eio::packet_type::open:
        return "open";
    case eio::packet_type::close:
        return "close";
    case eio::packet_type::ping:
        return "ping";
    case eio::packet_type::pong:
        return "pong";
    case eio::packet_type::message:
        return "message";
    case eio::packet_type::upgrade:
        return "upgrade";
    case eio::packet_type::noop:
        return "noop";
    }
    return "?";
}

} // namespace

TEST_CASE("engineio: every packet type decodes and encodes back", "[engineio]") {
    struct row {
        std::string_view wire;
        eio::packet_type type;
        std::string_view data;
    };
    row const rows[] = {
        {R"(0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000})",
         eio::packet_type::open,
         R"({"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000})"},
        {"1", eio::packet_type::close, ""},
        {"2", eio::packet_type::ping, ""},
        {"2probe", eio::packet_type::ping, "probe"},
        {"3", eio::packet_type::pong, ""},
        {"3probe", eio::packet_type::pong, "probe"},
        {"4", eio::packet_type::message, ""},
        {"4hello", eio::packet_type::message, "hello"},
        {"42[\"hello\",1]", eio::packet_type::message, "2[\"hello\",1]"},
        {"4\xe2\x82\xac\x1e", eio::packet_type::message, "\xe2\x82\xac\x1e"},
        {"5", eio::packet_type::upgrade, ""},
        {"6", eio::packet_type::noop, ""},
    };
    for (auto const& r : rows) {
        CAPTURE(r.wire);
        auto p = eio::decode(r.wire);
        REQUIRE(p.has_value());
        CHECK(type_name(p->type) == type_name(r.type));
        CHECK(p->data == r.data);
        CHECK_FALSE(p->binary);
        CHECK(eio::encode(*p) == r.wire);
    }
}

TEST_CASE("engineio: decode_view refers to the text, decode owns a copy", "[engineio]") {
    std::string const wire = "42[\"hello\",1]";
    auto const v = eio::decode_view(wire);
    REQUIRE(v.has_value());
    CHECK(type_name(v->type) == "message");
    CHECK(v->data == "2[\"hello\",1]");
    CHECK(v->data.data() == wire.data() + 1);
    CHECK_FALSE(v->binary);
    CHECK(outcome(eio::decode_view("")) == message_of(error::empty_packet));
    CHECK(outcome(eio::decode_view("9")) == message_of(error::unknown_packet_type));
}

TEST_CASE("engineio: the type digit is the enum value", "[engineio]") {
    for (int t = 0; t <= 6; ++t) {
        CAPTURE(t);
        eio::packet const p{static_cast<eio::packet_type>(t), "x", false};
        auto const wire = eio::encode(p);
        CHECK(wire == std::string(1, static_cast<char>('0' + t)) + "x");
        auto back = eio::decode(wire);
        REQUIRE(back.has_value());
        CHECK(*back == p);
    }
    std::string out = "prefix:";
    eio::encode_to(out, eio::packet{eio::packet_type::pong, "probe", false});
    CHECK(out == "prefix:3probe");
}

TEST_CASE("engineio: empty frames and unknown type digits are errors", "[engineio][errors]") {
    REQUIRE_NOTHROW(eio::decode(""));
    CHECK(outcome(eio::decode("")) == message_of(error::empty_packet));
    std::string_view const bads[] = {"7",
                                     "8",
                                     "9hello",
                                     "a",
                                     "b",
                                     "bAQID",
                                     "/",
                                     "-1",
                                     " 4",
                                     "\x1e",
                                     "{\"sid\":1}",
                                     std::string_view("\x00"
                                                      "4",
                                                      2)};
    for (auto bad : bads) {
        CAPTURE(bad);
        REQUIRE_NOTHROW(eio::decode(bad));
        CHECK(outcome(eio::decode(bad)) == message_of(error::unknown_packet_type));
    }
}

TEST_CASE("engineio: a binary frame is a message carrying bytes", "[engineio][binary]") {
    std::string const bytes("\x00\x01\xff\xfe\x1e"
                            "4text",
                            10);
    auto const p = eio::decode_binary(bytes);
    CHECK(p.type == eio::packet_type::message);
    CHECK(p.binary);
    CHECK(p.data == bytes);
    CHECK(p.data.size() == 10);
    // Over WebSocket a binary packet is the whole frame: no type digit.
    CHECK(eio::encode(p) == bytes);

    auto const empty = eio::decode_binary("");
    CHECK(empty.binary);
    CHECK(empty.data.empty());
    CHECK(empty.type == eio::packet_type::message);
}

TEST_CASE("engineio: base64 follows the RFC 4648 test vectors", "[engineio][base64]") {
    struct row {
        std::string_view plain, padded, unpadded;
    };
    row const rows[] = {
        {"", "", ""},
        {"f", "Zg==", "Zg"},
        {"fo", "Zm8=", "Zm8"},
        {"foo", "Zm9v", "Zm9v"},
        {"foob", "Zm9vYg==", "Zm9vYg"},
        {"fooba", "Zm9vYmE=", "Zm9vYmE"},
        {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
    };
    for (auto const& r : rows) {
        CAPTURE(r.plain);
        std::string enc;
        eio::base64_encode_to(enc, r.plain);
        CHECK(enc == r.padded);

        auto dec = eio::base64_decode(r.padded);
        REQUIRE(dec.has_value());
        CHECK(*dec == r.plain);

        auto dec2 = eio::base64_decode(r.unpadded);
        REQUIRE(dec2.has_value());
        CHECK(*dec2 == r.plain);
    }
    std::string out = "b";
    eio::base64_encode_to(out, "foo");
    CHECK(out == "bZm9v"); // appends
}

TEST_CASE("engineio: base64 uses the standard alphabet and round-trips every byte",
          "[engineio][base64]") {
    std::string enc;
    eio::base64_encode_to(enc, std::string("\xfb\xff\xbf", 3));
    CHECK(enc == "+/+/");
    enc.clear();
    eio::base64_encode_to(enc, std::string("\x00\x00\x00", 3));
    CHECK(enc == "AAAA");

    std::string all;
    for (int i = 0; i < 256; ++i)
        all += static_cast<char>(i);
    for (std::size_t len = 0; len <= all.size(); len += 37) {
        CAPTURE(len);
        auto const plain = all.substr(256 - len);
        enc.clear();
        eio::base64_encode_to(enc, plain);
        CHECK(enc.size() == (len + 2) / 3 * 4);
        auto dec = eio::base64_decode(enc);
        REQUIRE(dec.has_value());
        CHECK(*dec == plain);
    }
    enc.clear();
    eio::base64_encode_to(enc, all);
    auto dec = eio::base64_decode(enc);
    REQUIRE(dec.has_value());
    CHECK(*dec == all);
}

TEST_CASE("engineio: base64 outside the alphabet is rejected", "[engineio][base64]") {
    for (std::string_view bad : {
             "Zm9v!",        // punctuation
             "Zm 9v",        // whitespace
             "Zm9v\n",       // newline
             "Zm9-",         // base64url alphabet
             "Zm_v",         // base64url alphabet
             "Z",            // a single character cannot encode a byte
             "Zm9vY",        // nor can 4n+1 characters
             "Zm=v",         // padding in the middle
             "=Zm9",         // padding first
             "Zg==Zg==",     // two padded blocks
             "Zm9v\xc3\xa9", // non-ASCII
         }) {
        CAPTURE(bad);
        REQUIRE_NOTHROW(eio::base64_decode(bad));
        CHECK(outcome(eio::base64_decode(bad)) == message_of(error::invalid_base64));
    }
}

TEST_CASE("engineio: polling payload with text and binary packets", "[engineio][payload]") {
    std::string_view const wire = "4hello\x1e"
                                  "bAQIDBA==\x1e"
                                  "2probe\x1e"
                                  "4\x1e"
                                  "6";
    auto ps = eio::decode_payload(wire);
    REQUIRE(ps.has_value());
    REQUIRE(ps->size() == 5);
    CHECK((*ps)[0] == eio::packet{eio::packet_type::message, "hello", false});
    CHECK((*ps)[1] == eio::packet{eio::packet_type::message, "\x01\x02\x03\x04", true});
    CHECK((*ps)[2] == eio::packet{eio::packet_type::ping, "probe", false});
    CHECK((*ps)[3] == eio::packet{eio::packet_type::message, "", false});
    CHECK((*ps)[4] == eio::packet{eio::packet_type::noop, "", false});
    CHECK(eio::encode_payload(*ps) == wire);

    std::vector<eio::packet> const out = {
        {eio::packet_type::message, "2[\"ev\",{\"_placeholder\":true,\"num\":0}]", false},
        {eio::packet_type::message, std::string("\x00\xff", 2), true},
        {eio::packet_type::message, "", true},
        {eio::packet_type::close, "", false},
    };
    auto const encoded = eio::encode_payload(out);
    CHECK(encoded == "42[\"ev\",{\"_placeholder\":true,\"num\":0}]\x1e"
                     "bAP8=\x1e"
                     "b\x1e"
                     "1");
    auto back = eio::decode_payload(encoded);
    REQUIRE(back.has_value());
    CHECK(*back == out);
}

TEST_CASE("engineio: a payload of one packet has no separator", "[engineio][payload]") {
    std::vector<eio::packet> const one = {{eio::packet_type::message, "2[\"a\"]", false}};
    CHECK(eio::encode_payload(one) == "42[\"a\"]");
    auto ps = eio::decode_payload("42[\"a\"]");
    REQUIRE(ps.has_value());
    CHECK(*ps == one);

    auto bin = eio::decode_payload("bZm9v");
    REQUIRE(bin.has_value());
    REQUIRE(bin->size() == 1);
    CHECK((*bin)[0] == eio::packet{eio::packet_type::message, "foo", true});

    CHECK(eio::encode_payload(std::vector<eio::packet>{}).empty());
}

TEST_CASE("engineio: payload errors", "[engineio][payload][errors]") {
    struct row {
        std::string_view wire;
        error e;
    };
    row const rows[] = {
        {"", error::empty_packet},
        {"\x1e", error::empty_packet},
        {"4a\x1e", error::empty_packet},
        {"\x1e"
         "4a",
         error::empty_packet},
        {"4a\x1e\x1e"
         "4b",
         error::empty_packet},
        {"4a\x1e"
         "9b",
         error::unknown_packet_type},
        {"4a\x1e"
         "bZm9v!",
         error::invalid_base64},
        {"bZ", error::invalid_base64},
        {"4a\x1e"
         "bZm9v\x1e"
         "b*",
         error::invalid_base64},
    };
    for (auto const& r : rows) {
        CAPTURE(r.wire);
        REQUIRE_NOTHROW(eio::decode_payload(r.wire));
        CHECK(outcome(eio::decode_payload(r.wire)) == message_of(r.e));
    }
}

TEST_CASE("engineio: encode_open writes the handshake keys in the reference order",
          "[engineio][open]") {
    CHECK(
        eio::encode_open({.sid = "lv_VI97HAXpY6yYWAAAC", .upgrade_to_websocket = true}) ==
        R"(0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000})");
    CHECK(
        eio::encode_open({.sid = "abc",
                          .upgrade_to_websocket = false,
                          .ping_interval_ms = 300,
                          .ping_timeout_ms = 200,
                          .max_payload = 100000000}) ==
        R"(0{"sid":"abc","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":100000000})");
    // The sid is quoted as a JSON string.
    CHECK(
        eio::encode_open({.sid = "a\"b"}) ==
        R"(0{"sid":"a\"b","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000})");

    // It is an open packet whose data is the JSON the client parses.
    auto p = eio::decode(eio::encode_open({.sid = "x"}));
    REQUIRE(p.has_value());
    CHECK(p->type == eio::packet_type::open);
    auto v = roomcast::protocol::parse_json(p->data);
    REQUIRE(v);
    CHECK(v->at("sid").as_string() == "x");
}
