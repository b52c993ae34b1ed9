// Unit tests for roomcast/protocol/json.hpp: serialize() must write exactly what JavaScript's
// JSON.stringify writes (expected strings below were produced by Node.js 20), parse_json()
// must reject bad client input with an error code and never throw.
#include "catch.hpp"

#include <roomcast/protocol/json.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace json = boost::json;
using roomcast::protocol::error;
using roomcast::protocol::max_json_depth;
using roomcast::protocol::parse_json;
using roomcast::protocol::serialize;

namespace {

std::string number(double x) {
    return serialize(json::value(x));
}

// "ok" or the message of the error, so that failures print something readable.
std::string outcome(std::string_view text) {
    auto const r = parse_json(text);
    return r ? std::string("ok") : r.error().message();
}

std::string const invalid_json = make_error_code(error::invalid_json).message();

} // namespace

TEST_CASE("serialize writes doubles as ECMAScript Number::toString", "[json][number]") {
    struct row {
        double x;
        char const* js; // JSON.stringify(x) in Node.js
    };
    row const rows[] = {
        {0.0, "0"},
        {1.0, "1"},
        {-1.0, "-1"},
        {1.5, "1.5"},
        {-1.5, "-1.5"},
        {0.1, "0.1"},
        {0.1 + 0.2, "0.30000000000000004"},
        {4.35, "4.35"},
        {100.0, "100"},
        {1e21, "1e+21"},
        {1e20, "100000000000000000000"},
        {123456789012345680000.0, "123456789012345680000"},
        {1e-7, "1e-7"},
        {-1e-7, "-1e-7"},
        {0.000001, "0.000001"},
        {1.2345e-5, "0.000012345"},
        {1.23e-18, "1.23e-18"},
        {-1.5e-10, "-1.5e-10"},
        {1e300, "1e+300"},
        {1.7976931348623157e308, "1.7976931348623157e+308"},
        {5e-324, "5e-324"},
        {9007199254740992.0, "9007199254740992"},
        {9223372036854775808.0, "9223372036854776000"},
        {18446744073709551616.0, "18446744073709552000"},
    };
    for (auto const& r : rows) {
        CAPTURE(r.js);
        CHECK(number(r.x) == r.js);
    }
}

TEST_CASE("serialize writes -0 as 0 and non-finite numbers as null", "[json][number]") {
    CHECK(number(-0.0) == "0");
    CHECK(number(std::numeric_limits<double>::quiet_NaN()) == "null");
    CHECK(number(std::numeric_limits<double>::infinity()) == "null");
    CHECK(number(-std::numeric_limits<double>::infinity()) == "null");
    CHECK(serialize(json::array{-0.0, std::nan(""), 1.0}) == "[0,null,1]");
}

TEST_CASE("serialize writes integers in JavaScript's safe range exactly", "[json][number]") {
    CHECK(serialize(json::value(std::int64_t(0))) == "0");
    CHECK(serialize(json::value(std::int64_t(-1))) == "-1");
    CHECK(serialize(json::value(std::int64_t(42))) == "42");
    CHECK(serialize(json::value(std::uint64_t(42))) == "42");
    CHECK(serialize(json::value(std::int64_t(1) << 53)) == "9007199254740992"); // 2^53
    CHECK(serialize(json::value((std::int64_t(1) << 53) - 1)) == "9007199254740991");
    CHECK(serialize(json::value(-((std::int64_t(1) << 53) - 1))) == "-9007199254740991");
    CHECK(serialize(json::value(std::uint64_t(1) << 53)) == "9007199254740992");
}

// Integers beyond 2^53 are a deliberate exception to byte-identity with JSON.stringify:
// JavaScript can only hold (and would write) the nearest double, but a C++ server's 64-bit ids
// must reach Python and C++ clients intact, so roomcast writes them exactly.
TEST_CASE("serialize writes integers beyond 2^53 exactly", "[json][number]") {
    CHECK(serialize(json::value(std::numeric_limits<std::uint64_t>::max())) ==
          "18446744073709551615");
    CHECK(serialize(json::value(std::numeric_limits<std::int64_t>::max())) ==
          "9223372036854775807");
    CHECK(serialize(json::value(std::numeric_limits<std::int64_t>::min())) ==
          "-9223372036854775808");
    CHECK(serialize(json::value((std::int64_t(1) << 53) + 1)) == "9007199254740993");
}

TEST_CASE("serialize escapes strings as JSON.stringify does", "[json][string]") {
    using namespace std::string_literals;
    CHECK(serialize(json::value("")) == R"("")");
    CHECK(serialize(json::value("plain text")) == R"("plain text")");
    CHECK(serialize(json::value("say \"hi\"")) == R"("say \"hi\"")");
    CHECK(serialize(json::value("C:\\dir\\")) == R"("C:\\dir\\")");
    CHECK(serialize(json::value("\b\f\n\r\t")) == R"("\b\f\n\r\t")");
    CHECK(serialize(json::value("\x01")) == R"("\u0001")");
    CHECK(serialize(json::value("\x1f")) == R"("\u001f")");
    CHECK(serialize(json::value("\x0b")) == R"("\u000b")"); // vertical tab has no short form
    CHECK(serialize(json::value("a\0b"s)) == R"("a\u0000b")");
    CHECK(serialize(json::value("\x7f")) == "\"\x7f\"");                  // DEL is not escaped
    CHECK(serialize(json::value("a/b</script>")) == R"("a/b</script>")"); // "/" is not escaped
    // UTF-8 passes through untouched, including U+2028/U+2029 (JSON.stringify keeps them).
    CHECK(serialize(json::value("Zo\xc3\xab \xe2\x82\xac \xf0\x9f\x98\x80")) ==
          "\"Zo\xc3\xab \xe2\x82\xac \xf0\x9f\x98\x80\"");
    CHECK(serialize(json::value("\xe2\x80\xa8\xe2\x80\xa9")) == "\"\xe2\x80\xa8\xe2\x80\xa9\"");
    // All of it at once: JSON.stringify("a\"b\\c\b\f\n\r\t\u0001\u001f\u007f/é")
    CHECK(serialize(json::value("a\"b\\c\b\f\n\r\t\x01\x1f\x7f/\xc3\xa9")) ==
          "\"a\\\"b\\\\c\\b\\f\\n\\r\\t\\u0001\\u001f\x7f/\xc3\xa9\"");
}

TEST_CASE("serialize escapes every control character", "[json][string]") {
    for (int c = 0; c < 0x20; ++c) {
        CAPTURE(c);
        auto const out = serialize(json::value(std::string(1, static_cast<char>(c))));
        switch (c) {
        case '\b':
            CHECK(out == R"("\b")");
            break;
        case '\t':
            CHECK(out == R"("\t")");
            break;
        case '\n':
            CHECK(out == R"("\n")");
            break;
        case '\f':
            CHECK(out == R"("\f")");
            break;
        case '\r':
            CHECK(out == R"("\r")");
            break;
        default: {
            static constexpr char hex[] = "0123456789abcdef";
            std::string const want = std::string("\"\\u00") + hex[c >> 4] + hex[c & 0xf] + '"';
            CHECK(out == want);
        }
        }
    }
}

TEST_CASE("serialize escapes object keys like strings", "[json][string]") {
    json::object o;
    o["a\"b"] = 1;
    o["line\nbreak"] = 2;
    CHECK(serialize(o) == R"({"a\"b":1,"line\nbreak":2})");
}

TEST_CASE("serialize is compact and keeps object key order", "[json][structure]") {
    CHECK(serialize(json::value(nullptr)) == "null");
    CHECK(serialize(json::value(true)) == "true");
    CHECK(serialize(json::value(false)) == "false");
    CHECK(serialize(json::array{}) == "[]");
    CHECK(serialize(json::object{}) == "{}");

    json::object inner;
    inner["y"] = "s";
    inner["b"] = json::array{};
    inner["a"] = json::object{};
    json::object o;
    o["z"] = 1;
    o["a"] = json::array{true, false, nullptr, json::value(json::array{json::value(json::array{})}),
                         2.5};
    o["m"] = std::move(inner);
    o["b"] = -3;
    CHECK(serialize(o) ==
          R"({"z":1,"a":[true,false,null,[[]],2.5],"m":{"y":"s","b":[],"a":{}},"b":-3})");
}

TEST_CASE("parse then serialize gives back a compact Socket.IO payload byte for byte",
          "[json][roundtrip]") {
    // What JSON.stringify writes for typical events: JSON.stringify(JSON.parse(text)) === text.
    std::string_view const texts[] = {
        "[\"chat message\",{\"room\":\"lobby\",\"from\":{\"id\":\"x8WIv7-mJelg7on_ALbx\","
        "\"name\":\"Zo\xc3\xab\"},\"text\":\"hi \\\"all\\\"\\n\",\"ts\":1700000000123,"
        "\"score\":-12.5,\"ratio\":0.1,\"sum\":0.30000000000000004,\"pi\":3.141592653589793,"
        "\"tags\":[\"a\",\"b\"],\"read\":false,\"reply\":null,\"big\":1e+21,\"tiny\":1e-7}]",
        R"(["userJoined",{"userName":"alice","id":"oSO0OpakMV_3jnilAAAA"}])",
        R"({"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000})",
        R"([[],{},[{}],{"":""},"",0,-0.5,1.7976931348623157e+308,5e-324,2.2250738585072014e-308])",
    };
    for (auto text : texts) {
        CAPTURE(text);
        auto v = parse_json(text);
        REQUIRE(v);
        CHECK(serialize(*v) == text);
    }
}

// JSON.parse rounds every number to the nearest double, so JSON.stringify(JSON.parse(x)) === x
// for every x that JSON.stringify wrote. Doubles with 16 or 17 significant digits are what
// JavaScript clients send for most computed values (Math.random(), divisions, coordinates).
TEST_CASE("parse_json reads numbers as the nearest double, as JSON.parse does",
          "[json][roundtrip][number]") {
    struct row {
        char const* text;
        double nearest; // the C++ literal is correctly rounded
    };
    row const rows[] = {
        {"92.50388589283949", 92.50388589283949},
        {"-104.07358996362035", -104.07358996362035},
        {"980977.8140020573", 980977.8140020573},
        {"123456789012345680000", 123456789012345680000.0},
    };
    for (auto const& r : rows) {
        CAPTURE(r.text);
        auto v = parse_json(r.text);
        REQUIRE(v);
        REQUIRE(v->is_double());
        CHECK(v->get_double() == r.nearest);
        CHECK(serialize(*v) == r.text); // JSON.stringify(JSON.parse(text)) === text in Node.js
    }
}

TEST_CASE("parse then serialize normalizes as JSON.stringify(JSON.parse(text)) does",
          "[json][roundtrip]") {
    struct row {
        char const* in;
        char const* js; // JSON.stringify(JSON.parse(in)) in Node.js
    };
    row const rows[] = {
        {R"( { "b" : 1 , "a" : [ 1.50 , 2E0 , 1e2 , -0 , 0.0 ] } )",
         R"({"b":1,"a":[1.5,2,100,0,0]})"},
        {R"(["\u0041\/\u00e9\ud83d\ude00"])", "[\"A/\xc3\xa9\xf0\x9f\x98\x80\"]"},
        {R"({"a":1,"b":2,"a":3})", R"({"a":3,"b":2})"},
        {"[1e400,-1e400]", "[null,null]"},
        {"18446744073709551616", "18446744073709552000"},
    };
    for (auto const& r : rows) {
        CAPTURE(r.in);
        auto v = parse_json(r.in);
        REQUIRE(v);
        CHECK(serialize(*v) == r.js);
    }
}

TEST_CASE("parse_json rejects invalid JSON without throwing", "[json][parse]") {
    std::string_view const bad[] = {
        "",         " ",        "{",         "}",         "[1,]",       "[,1]",
        "{'a':1}",  "{a:1}",    "{\"a\"}",   "{\"a\":}",  "{\"a\":1,}", "undefined",
        "NaN",      "Infinity", "[1 2]",     "\"abc",     "01",         "1.",
        ".5",       "+1",       "0x10",      "[1]x",      "[1][2]",     "// c\n1",
        "/* c */1", "\"a\tb\"", "\"\\x41\"", "\"\\u12\"", "tru",        "nul",
        "[\"a\"",   "{\"a\":1", "\"\\\"",    "-",         "1e",         "\"\n\"",
    };
    for (auto text : bad) {
        CAPTURE(text);
        REQUIRE_NOTHROW(parse_json(text));
        CHECK(outcome(text) == invalid_json);
    }
}

TEST_CASE("parse_json accepts valid JSON of every kind", "[json][parse]") {
    std::string_view const good[] = {
        "null", "true", "false",         "0",           "-0", "1.5e-3", "\"\"",
        "[]",   "{}",   " [ 1 , { } ] ", "\"\\u0000\"",
    };
    for (auto text : good) {
        CAPTURE(text);
        CHECK(outcome(text) == "ok");
    }
    auto v = parse_json(R"({"a":[1,"x",null]})");
    REQUIRE(v);
    REQUIRE(v->is_object());
    CHECK(v->at("a").at(1).as_string() == "x");
}

TEST_CASE("parse_json builds values past the stack space it starts with", "[json][parse]") {
    // Thousands of values under construction at once, long strings and keys: the parser's
    // stack outgrows its first buffer and moves to the heap mid-document.
    std::string text = "[";
    for (int i = 0; i < 2000; ++i) {
        if (i)
            text += ',';
        text += R"({"key number )" + std::to_string(i) + R"(":[)" + std::to_string(i) + R"(,")" +
                std::string(static_cast<std::size_t>(i % 50), 'x') + R"("]})";
    }
    text += "]";
    auto v = parse_json(text);
    REQUIRE(v);
    REQUIRE(v->as_array().size() == 2000);
    CHECK(v->at(1999).at("key number 1999").at(1).as_string() == std::string(49, 'x'));
    CHECK(serialize(*v) == text);
}

TEST_CASE("parse_json rejects invalid UTF-8", "[json][parse][utf8]") {
    std::string_view const bad[] = {
        "\"\xff\"",             // never valid in UTF-8
        "\"\x80\"",             // lone continuation byte
        "\"\xc3\"",             // truncated 2-byte sequence
        "\"\xe2\x82\"",         // truncated 3-byte sequence
        "\"\xc0\xaf\"",         // overlong "/"
        "\"\xe0\x80\xaf\"",     // overlong "/"
        "\"\xed\xa0\x80\"",     // UTF-16 surrogate encoded in UTF-8
        "\"\xf4\x90\x80\x80\"", // beyond U+10FFFF
        "{\"k\xff\":1}",        // in a key
    };
    for (auto text : bad) {
        CAPTURE(text);
        REQUIRE_NOTHROW(parse_json(text));
        CHECK(outcome(text) == invalid_json);
    }
    CHECK(outcome("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"") == "ok");
}

TEST_CASE("parse_json bounds the nesting depth", "[json][parse][depth]") {
    auto const arrays = [](std::size_t depth) {
        return std::string(depth, '[') + std::string(depth, ']');
    };
    auto const objects = [](std::size_t depth) {
        std::string s;
        for (std::size_t i = 0; i < depth; ++i)
            s += "{\"a\":";
        s += '1';
        s.append(depth, '}');
        return s;
    };
    auto const mixed = [](std::size_t depth) {
        std::string open, close;
        for (std::size_t i = 0; i < depth; ++i) {
            open += i % 2 ? "{\"k\":" : "[";
            close.insert(0, i % 2 ? "}" : "]");
        }
        return open + "0" + close;
    };

    CHECK(outcome(arrays(max_json_depth)) == "ok");
    CHECK(outcome(objects(max_json_depth)) == "ok");
    CHECK(outcome(mixed(max_json_depth)) == "ok");

    CHECK(outcome(arrays(max_json_depth + 1)) == invalid_json);
    CHECK(outcome(objects(max_json_depth + 1)) == invalid_json);
    CHECK(outcome(mixed(max_json_depth + 1)) == invalid_json);

    // A hostile client: far deeper than any stack would survive if parsing recursed freely.
    std::string const deep = std::string(1'000'000, '[');
    REQUIRE_NOTHROW(parse_json(deep));
    CHECK(outcome(deep) == invalid_json);
    CHECK(outcome(arrays(100'000)) == invalid_json);

    // What parses within the bound also serializes back (serialize recurses too).
    auto v = parse_json(arrays(max_json_depth));
    REQUIRE(v);
    CHECK(serialize(*v) == arrays(max_json_depth));
}
