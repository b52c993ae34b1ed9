// Unit tests for roomcast/protocol/msgpack.hpp: MessagePack byte-compatible with notepack.io
// 3.0.1, the codec of @socket.io/redis-adapter 8.x. Every expected byte string below was
// written by notepack.io's encode under Node.js 20 (for the JavaScript value of the JSON, a
// placeholder standing for a Buffer of its attachment), and every expected decoding is what
// notepack.io's decode gives back, with Buffers numbered as socket.io-parser numbers them and
// Dates as Date.prototype.toJSON writes them.
#include "catch.hpp"
#include "node_bytes.hpp"

#include <roomcast/protocol/json.hpp>
#include <roomcast/protocol/msgpack.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace json = boost::json;
namespace mp = roomcast::protocol::msgpack;
using mp::error;
using roomcast::protocol::serialize;

using namespace roomcast::test;

namespace {

struct decoded {
    json::value value;
    std::vector<std::string> attachments;
};

decoded decode_ok(std::string_view bytes, mp::decode_options const& opt = {}) {
    decoded d;
    auto r = mp::decode(bytes, d.attachments, opt);
    INFO("decoding " << to_hex(bytes) << ": " << (r ? "ok" : r.error().message()));
    REQUIRE(r.has_value());
    d.value = std::move(*r);
    return d;
}

/// "ok" or the message of the error, asserting that decoding does not throw.
std::string outcome(std::string_view bytes, mp::decode_options const& opt = {}) {
    std::vector<std::string> attachments;
    std::string out;
    REQUIRE_NOTHROW(out = [&] {
        auto const r = mp::decode(bytes, attachments, opt);
        return r ? std::string("ok") : r.error().message();
    }());
    return out;
}

std::string message_of(error e) {
    return make_error_code(e).message();
}

std::string placeholder(std::size_t n) {
    return R"({"_placeholder":true,"num":)" + std::to_string(n) + "}";
}

// notepack.io's encode of the JavaScript value of `json`, where each placeholder names a
// Buffer holding `attachments[num]`, and what notepack.io's decode reads back from those bytes
// when it is not the same (`decoded`, with its Buffers as `decoded_attachments`).
struct encode_row {
    std::string_view json;
    std::vector<std::string_view> attachments; // hex
    std::string_view hex;
    std::string_view decoded;
    std::vector<std::string_view> decoded_attachments; // hex
};

encode_row const encode_rows[] = {
    {R"(0)", {}, "00", "", {}},
    {R"(1)", {}, "01", "", {}},
    {R"(127)", {}, "7f", "", {}},
    {R"(128)", {}, "cc80", "", {}},
    {R"(255)", {}, "ccff", "", {}},
    {R"(256)", {}, "cd0100", "", {}},
    {R"(65535)", {}, "cdffff", "", {}},
    {R"(65536)", {}, "ce00010000", "", {}},
    {R"(4294967295)", {}, "ceffffffff", "", {}},
    {R"(4294967296)", {}, "cf0000000100000000", "", {}},
    {R"(9007199254740991)", {}, "cf001fffffffffffff", "", {}},
    {R"(9007199254740992)", {}, "cf0020000000000000", "", {}},
    {R"(9223372036854775808)", {}, "cf8000000000000000", "", {}},
    {R"(18446744073709549568)", {}, "cffffffffffffff800", "", {}},
    {R"(-1)", {}, "ff", "", {}},
    {R"(-32)", {}, "e0", "", {}},
    {R"(-33)", {}, "d0df", "", {}},
    {R"(-128)", {}, "d080", "", {}},
    {R"(-129)", {}, "d1ff7f", "", {}},
    {R"(-32768)", {}, "d18000", "", {}},
    {R"(-32769)", {}, "d2ffff7fff", "", {}},
    {R"(-2147483648)", {}, "d280000000", "", {}},
    {R"(-2147483649)", {}, "d3ffffffff7fffffff", "", {}},
    {R"(-4294967296)", {}, "d3ffffffff00000000", "", {}},
    {R"(-9007199254740991)", {}, "d3ffe0000000000001", "", {}},
    {R"(-9007199254740992)", {}, "d3ffe0000000000000", "", {}},
    {R"(-9223372036854775808)", {}, "d38000000000000000", "", {}},
    {R"(1.5)", {}, "cb3ff8000000000000", "", {}},
    {R"(-1.5)", {}, "cbbff8000000000000", "", {}},
    {R"(0.1)", {}, "cb3fb999999999999a", "", {}},
    {R"(0.5)", {}, "cb3fe0000000000000", "", {}},
    {R"(-0.5)", {}, "cbbfe0000000000000", "", {}},
    {R"(1e-7)", {}, "cb3e7ad7f29abcaf48", "", {}},
    {R"(-0.0)", {}, "00", "", {}},
    {R"(3.0)", {}, "03", "", {}},
    {R"(-3.0)", {}, "fd", "", {}},
    {R"(1e3)", {}, "cd03e8", "", {}},
    {R"(4294967296.0)", {}, "cf0000000100000000", "", {}},
    {R"(-2147483649.0)", {}, "d3ffffffff7fffffff", "", {}},
    {R"(9007199254740993.0)", {}, "cf0020000000000000", "", {}},
    {R"(5e-324)", {}, "cb0000000000000001", "", {}},
    {R"(null)", {}, "c0", "", {}},
    {R"(true)", {}, "c3", "", {}},
    {R"(false)", {}, "c2", "", {}},
    {R"("")", {}, "a0", "", {}},
    {R"("a")", {}, "a161", "", {}},
    {R"("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")",
     {},
     "bf61616161616161616161616161616161616161616161616161616161616161",
     "",
     {}},
    {R"("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")",
     {},
     "d920616161616161616161616161616161616161616161616161616161616161"
     "6161",
     "",
     {}},
    {R"("\u00e9")", {}, "a2c3a9", "", {}},
    {R"("\u20ac")", {}, "a3e282ac", "", {}},
    {R"("\ud83d\ude00")", {}, "a4f09f9880", "", {}},
    {R"("h\u00e9llo w\u00f6rld \u20ac\ud83d\ude00")",
     {},
     "b568c3a96c6c6f2077c3b6726c6420e282acf09f9880",
     "",
     {}},
    {R"("\u0000")", {}, "a100", "", {}},
    {R"("\u20ac\u20ac\u20ac\u20ac\u20ac\u20ac\u20ac\u20ac\u20ac\u20aca")",
     {},
     "bfe282ace282ace282ace282ace282ace282ace282ace282ace282ace282ac61",
     "",
     {}},
    {R"("\u20ac\u20ac\u20ac\u20ac\u20ac\u20ac\u20ac\u20ac\u20ac\u20ac\u20ac")",
     {},
     "d921e282ace282ace282ace282ace282ace282ace282ace282ace282ace282ac"
     "e282ac",
     "",
     {}},
    {R"("\ud83d\ude00\ud83d\ude00\ud83d\ude00\ud83d\ude00\ud83d\ude00\ud83d\ud)"
     R"(e00\ud83d\ude00abc")",
     {},
     "bff09f9880f09f9880f09f9880f09f9880f09f9880f09f9880f09f9880616263",
     "",
     {}},
    {R"("\ud83d\ude00\ud83d\ude00\ud83d\ude00\ud83d\ude00\ud83d\ude00\ud83d\ud)"
     R"(e00\ud83d\ude00\ud83d\ude00")",
     {},
     "d920f09f9880f09f9880f09f9880f09f9880f09f9880f09f9880f09f9880f09f"
     "9880",
     "",
     {}},
    {R"([])", {}, "90", "", {}},
    {R"([1,2,3,4,5,6,7,8,9,10,11,12,13,14,15])", {}, "9f0102030405060708090a0b0c0d0e0f", "", {}},
    {R"([1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16])",
     {},
     "dc00100102030405060708090a0b0c0d0e0f10",
     "",
     {}},
    {R"([[[]]])", {}, "919190", "", {}},
    {R"([null,true,false,"x",1.5,-1,{}])", {}, "97c0c3c2a178cb3ff8000000000000ff80", "", {}},
    {R"({})", {}, "80", "", {}},
    {R"({"b":1,"a":2})", {}, "82a16201a16102", "", {}},
    {R"({"a":{"b":{"c":[1,{"d":null}]}}})", {}, "81a16181a16281a163920181a164c0", "", {}},
    {R"({"\u20ac": "\ud83d\ude00"})", {}, "81a3e282aca4f09f9880", "", {}},
    {R"({"":0})", {}, "81a000", "", {}},
    {R"(["ev",{"a":1}])", {}, "92a2657681a16101", "", {}},
    {R"(["ev",{"_placeholder":true,"num":0}])", {"010203"}, "92a26576c403010203", "", {}},
    {R"({"_placeholder":true,"num":0})", {""}, "c400", "", {}},
    {R"([{"_placeholder":true,"num":1},{"x":{"_placeholder":true,"num":0}}])",
     {"aa", "bbbb"},
     "92c402bbbb81a178c401aa",
     R"([{"_placeholder":true,"num":0},{"x":{"_placeholder":true,"num":1}}])",
     {"bbbb", "aa"}},
    {R"([{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}])",
     {"aa"},
     "92c401aac401aa",
     R"([{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])",
     {"aa", "aa"}},
    {R"([{"_placeholder":true,"num":1}])",
     {"aa"},
     "9182ac5f706c616365686f6c646572c3a36e756d01",
     R"([{"_placeholder":true,"num":1}])",
     {}},
    {R"({"_placeholder":true,"num":0})", {}, "82ac5f706c616365686f6c646572c3a36e756d00", "", {}},
    {R"({"_placeholder":true,"num":0,"x":1})",
     {"aa"},
     "83ac5f706c616365686f6c646572c3a36e756d00a17801",
     R"({"_placeholder":true,"num":0,"x":1})",
     {}},
    {R"({"_placeholder":true,"num":0.0})", {"aa"}, "c401aa", "", {}},
    {R"({"_placeholder":true,"num":"0"})",
     {"aa"},
     "82ac5f706c616365686f6c646572c3a36e756da130",
     R"({"_placeholder":true,"num":"0"})",
     {}},
};

// MessagePack notepack.io never writes but reads (and roomcast must read): float 32, integers
// and lengths in larger forms than needed, `bin` in maps, integer and duplicate map keys, its
// `undefined` and timestamps; and what notepack.io's decode makes of each.
struct decode_row {
    std::string_view hex;
    std::string_view json;
    std::vector<std::string_view> attachments; // hex
};

decode_row const decode_rows[] = {
    {"ca3fc00000", R"(1.5)", {}},
    {"ca40400000", R"(3)", {}},
    {"ca3dcccccd", R"(0.10000000149011612)", {}},
    {"cb3ff8000000000000", R"(1.5)", {}},
    {"cc05", R"(5)", {}},
    {"cd0005", R"(5)", {}},
    {"ce00000005", R"(5)", {}},
    {"cf0000000000000005", R"(5)", {}},
    {"d005", R"(5)", {}},
    {"d1fffb", R"(-5)", {}},
    {"d2fffffffb", R"(-5)", {}},
    {"d3fffffffffffffffb", R"(-5)", {}},
    {"d080", R"(-128)", {}},
    {"d38000000000000000", R"(-9223372036854776000)", {}},
    {"cf7fffffffffffffff", R"(9223372036854776000)", {}},
    {"cfffffffffffffffff", R"(18446744073709552000)", {}},
    {"d900", R"("")", {}},
    {"d90161", R"("a")", {}},
    {"da000161", R"("a")", {}},
    {"db0000000161", R"("a")", {}},
    {"c50001aa", R"({"_placeholder":true,"num":0})", {"aa"}},
    {"c600000001aa", R"({"_placeholder":true,"num":0})", {"aa"}},
    {"82a162c401bba161c401aa",
     R"({"b":{"_placeholder":true,"num":0},"a":{"_placeholder":true,"num":1}})",
     {"bb", "aa"}},
    {"9281a178c401aa92c401bb81a179c401cc",
     R"([{"x":{"_placeholder":true,"num":0}},[{"_placeholder":true,"num":1},{")"
     R"(y":{"_placeholder":true,"num":2}}]])",
     {"aa", "bb", "cc"}},
    {"dc0001c0", R"([null])", {}},
    {"dd00000001c0", R"([null])", {}},
    {"de0001a161c0", R"({"a":null})", {}},
    {"df00000001a161c0", R"({"a":null})", {}},
    {"82a162010502", R"({"5":2,"b":1})", {}},
    {"81ffc0", R"({"-1":null})", {}},
    {"81ccffc0", R"({"255":null})", {}},
    {"81e0c0", R"({"-32":null})", {}},
    {"81d0dfc0", R"({"-33":null})", {}},
    {"81cdffffc0", R"({"65535":null})", {}},
    {"82a16101a16102", R"({"a":2})", {}},
    {"83a161c401aaa162c401bba161c401cc",
     R"({"a":{"_placeholder":true,"num":0},"b":{"_placeholder":true,"num":1}})",
     {"cc", "bb"}},
    {"92d40000c0", R"([null,null])", {}},
    {"81a161d40000", R"({"a":null})", {}},
    {"d6ff00000000", R"("1970-01-01T00:00:00.000Z")", {}},
    {"d6ffffffffff", R"("2106-02-07T06:28:15.000Z")", {}},
    {"d7ff1d5353006b02bd20", R"("2026-11-22T10:00:00.123Z")", {}},
    {"d7ff01312d0100000000", R"("2106-02-07T06:28:16.005Z")", {}},
    {"c70cff3b8b87c0ffffffffffffffff", R"("1969-12-31T23:59:59.999Z")", {}},
    {"c70cff00000000fffffff184aa5080", R"("-000001-01-01T00:00:00.000Z")", {}},
    {"c70cff00000000fffffff1868b8400", R"("0000-01-01T00:00:00.000Z")", {}},
    {"c70cff3b8b87c00000003afff4417f", R"("9999-12-31T23:59:59.999Z")", {}},
    {"c70cff000000000000003afff44180", R"("+010000-01-01T00:00:00.000Z")", {}},
    {"c70cff00000000000007dba8218000", R"("+275760-09-13T00:00:00.000Z")", {}},
    {"c70cff00000000fffff82457de8000", R"("-271821-04-20T00:00:00.000Z")", {}},
    {"d7ffee6b27ffffffffff", R"("2514-05-30T01:53:04.000Z")", {}},
    {"c70cffffffffff0000000000000000", R"("1970-01-01T00:00:04.294Z")", {}},
    {"c70cff3b9ac9ff000007dba8217fff", R"("+275760-09-13T00:00:00.000Z")", {}},
    {"c70cff00000000000007dba8218001", R"(null)", {}},
    {"c70cff000000007fffffffffffffff", R"(null)", {}},
    {"c70cff000000008000000000000000", R"(null)", {}},
};

// Values at each length boundary, too long to spell out: str of `n` bytes 'a' + i % 26, bin
// of `n` bytes i % 256, array of the integers 0..n-1, map of "k<i>": i. notepack.io's bytes
// are given by their first five bytes, their size and their FNV-1a 64 hash.
enum class kind { str, bin, array, map };
struct sized_row {
    kind k;
    std::size_t n;
    std::string_view head;
    std::size_t size;
    std::uint64_t fnv;
};

sized_row const sized_rows[] = {
    {kind::str, 0, "a0", 1, 0xaf641d4c86025aff},
    {kind::str, 31, "bf61626364", 32, 0xe1afc73b5c2152c0},
    {kind::str, 32, "d920616263", 34, 0x1e48e5dd0b4ac3a0},
    {kind::str, 255, "d9ff616263", 257, 0x58c931289439db1d},
    {kind::str, 256, "da01006162", 259, 0x736051e06841a460},
    {kind::str, 65535, "daffff6162", 65538, 0x2aec706853d1fd29},
    {kind::str, 65536, "db00010000", 65541, 0x797448fbef098545},
    {kind::bin, 0, "c400", 2, 0x0ab17007b70a4209},
    {kind::bin, 1, "c40100", 3, 0x35c0001c066b5222},
    {kind::bin, 255, "c4ff000102", 257, 0xe639590a8d183b53},
    {kind::bin, 256, "c501000001", 259, 0x1938a9389681d2c9},
    {kind::bin, 65535, "c5ffff0001", 65538, 0x6fa5ee1c5d34f06d},
    {kind::bin, 65536, "c600010000", 65541, 0x0d26a4f6d9e2e01e},
    {kind::array, 0, "90", 1, 0xaf644d4c8602ac8f},
    {kind::array, 15, "9f00010203", 16, 0x3c56e67169ff9c55},
    {kind::array, 16, "dc00100001", 19, 0x4c3ed149cc862043},
    {kind::array, 65535, "dcffff0001", 196224, 0x2ac91b082ac771b4},
    {kind::array, 65536, "dd00010000", 196229, 0x8a20ba9e64099a93},
    {kind::map, 0, "80", 1, 0xaf643d4c8602915f},
    {kind::map, 15, "8fa26b3000", 66, 0xeba1bf2fac38ab7f},
    {kind::map, 16, "de0010a26b", 73, 0x182e94a5ba11eb57},
    {kind::map, 65535, "deffffa26b", 643859, 0x29e930aa5218d5ad},
    {kind::map, 65536, "df00010000", 643871, 0xc313fa3467db5be1},
};

std::uint64_t fnv1a(std::string_view bytes) {
    std::uint64_t h = 0xcbf29ce484222325;
    for (unsigned char c : bytes) {
        h ^= c;
        h *= 0x100000001b3;
    }
    return h;
}

/// The value of a sized row, with its attachment.
decoded sized_value(kind k, std::size_t n) {
    decoded d;
    switch (k) {
    case kind::str: {
        std::string s;
        for (std::size_t i = 0; i < n; ++i)
            s += static_cast<char>('a' + i % 26);
        d.value = json::string(s);
        break;
    }
    case kind::bin: {
        std::string b;
        for (std::size_t i = 0; i < n; ++i)
            b += static_cast<char>(i % 256);
        d.attachments.push_back(std::move(b));
        d.value = js(placeholder(0));
        break;
    }
    case kind::array: {
        auto& a = d.value.emplace_array();
        for (std::size_t i = 0; i < n; ++i)
            a.emplace_back(static_cast<std::int64_t>(i));
        break;
    }
    case kind::map: {
        auto& o = d.value.emplace_object();
        for (std::size_t i = 0; i < n; ++i)
            o["k" + std::to_string(i)] = static_cast<std::int64_t>(i);
        break;
    }
    }
    return d;
}

// @socket.io/redis-adapter 8.3.0's messages, as it publishes them: a broadcast,
// `[uid, packet, {rooms, except, flags}]` with
// `packet = {type: 2, data: ["ev", {a: 1}, Buffer.from([1, 2, 3])], nsp: "/"}`, and a
// broadcast with acknowledgements (request type 7), `{uid, requestId, type, packet, opts}`.
constexpr std::string_view redis_broadcast =
    "93a641623378597a83a47479706502a46461746193a2657681a16101c4030102"
    "03a36e7370a12f83a5726f6f6d7391a172a665786365707490a5666c61677380";
constexpr std::string_view redis_broadcast_request =
    "85a3756964a641623378597aa9726571756573744964a6517739655274a47479"
    "706507a67061636b657483a47479706502a46461746192a26576c403010203a3"
    "6e7370a12fa46f70747383a5726f6f6d7391a172a665786365707491a27331a5"
    "666c61677381a8766f6c6174696c65c3";

} // namespace

TEST_CASE("msgpack: encodes as notepack.io does", "[msgpack]") {
    for (auto const& r : encode_rows) {
        CAPTURE(r.json);
        auto const attachments = from_hex(r.attachments);
        auto const v = js(r.json);
        CHECK(to_hex(mp::encode(v, attachments)) == r.hex);
        // encode_to appends.
        std::string out = "x";
        mp::encode_to(out, v, attachments);
        CHECK(out == "x" + from_hex(r.hex));
    }
}

TEST_CASE("msgpack: decodes notepack.io's bytes back, and encodes them again the same",
          "[msgpack]") {
    for (auto const& r : encode_rows) {
        CAPTURE(r.json, r.hex);
        auto const d = decode_ok(from_hex(r.hex));
        auto const expected = r.decoded.empty() ? js(r.json) : js(r.decoded);
        auto const attachments =
            from_hex(r.decoded.empty() ? r.attachments : r.decoded_attachments);
        CAPTURE(serialize(d.value));
        CHECK(js_equal(d.value, expected));
        CHECK(d.attachments == attachments);
        CHECK(to_hex(mp::encode(d.value, d.attachments)) == r.hex);
    }
}

TEST_CASE("msgpack: strings, bins, arrays and maps at every length boundary", "[msgpack]") {
    for (auto const& r : sized_rows) {
        CAPTURE(static_cast<int>(r.k), r.n);
        auto const v = sized_value(r.k, r.n);
        auto const bytes = mp::encode(v.value, v.attachments);
        CHECK(to_hex(bytes.substr(0, 5)) == r.head);
        CHECK(bytes.size() == r.size);
        CHECK(fnv1a(bytes) == r.fnv);
        auto const d = decode_ok(bytes);
        CHECK(d.value == v.value);
        CHECK(d.attachments == v.attachments);
        CHECK(mp::encode(d.value, d.attachments) == bytes);
    }
}

TEST_CASE("msgpack: decodes every type notepack.io reads", "[msgpack]") {
    for (auto const& r : decode_rows) {
        CAPTURE(r.hex, r.json);
        auto const d = decode_ok(from_hex(r.hex));
        CAPTURE(serialize(d.value));
        CHECK(js_equal(d.value, js(r.json)));
        CHECK(d.attachments == from_hex(r.attachments));
        // Encoded again (in notepack.io's forms), it decodes to the same value.
        auto const again = decode_ok(mp::encode(d.value, d.attachments));
        CHECK(js_equal(again.value, d.value));
        CHECK(again.attachments == d.attachments);
    }
}

TEST_CASE("msgpack: integers decode exactly, as int64 unless above INT64_MAX", "[msgpack]") {
    auto const at = [](std::string_view hex) { return decode_ok(from_hex(hex)).value; };
    CHECK(at("05").is_int64());
    CHECK(at("cc05").as_int64() == 5);
    CHECK(at("cf0000000000000005").as_int64() == 5);
    CHECK(at("ff").as_int64() == -1);
    CHECK(at("d3ffffffffffffffff").as_int64() == -1);
    CHECK(at("cf7fffffffffffffff").as_int64() == std::numeric_limits<std::int64_t>::max());
    CHECK(at("cf8000000000000000").as_uint64() == std::uint64_t(1) << 63);
    CHECK(at("cfffffffffffffffff").as_uint64() == std::numeric_limits<std::uint64_t>::max());
    CHECK(at("d38000000000000000").as_int64() == std::numeric_limits<std::int64_t>::min());
    CHECK(at("ca3fc00000").as_double() == 1.5);
    CHECK(at("ca40400000").as_double() == 3.0);
    CHECK(at("cb3ff8000000000000").as_double() == 1.5);
    CHECK(at("ca7f800000").as_double() == std::numeric_limits<double>::infinity());
    CHECK(std::isnan(at("cb7ff8000000000000").as_double()));
    // Integer keys as their exact decimal text.
    auto const keys = at("83d38000000000000000c0cfffffffffffffffffc0e0c0").as_object();
    CHECK(keys.contains("-9223372036854775808"));
    CHECK(keys.contains("18446744073709551615"));
    CHECK(keys.contains("-32"));
}

TEST_CASE("msgpack: numbers JavaScript holds only as doubles", "[msgpack]") {
    auto const hex = [](json::value const& v) { return to_hex(mp::encode(v)); };
    // Non-finite numbers: float 64, as notepack.io writes them.
    CHECK(hex(std::numeric_limits<double>::infinity()) == "cb7ff0000000000000");
    CHECK(hex(-std::numeric_limits<double>::infinity()) == "cbfff0000000000000");
    CHECK(hex(std::numeric_limits<double>::quiet_NaN()) == "cb7ff8000000000000");
    // Integers past 2^53 are written exactly: JavaScript would round 2^63 - 1 to 2^63 first
    // (cf8000000000000000); notepack.io reads these bytes as that same double.
    CHECK(hex(std::numeric_limits<std::int64_t>::max()) == "cf7fffffffffffffff");
    CHECK(hex(std::numeric_limits<std::uint64_t>::max()) == "cfffffffffffffffff");
    CHECK(hex(std::numeric_limits<std::int64_t>::min()) == "d38000000000000000");
    // Whole doubles outside [-2^63, 2^64): notepack.io wraps them modulo 2^64 (1e300 as
    // cf0000000000000000, read back as 0); roomcast writes float 64, which notepack.io reads
    // back as 1e300.
    CHECK(hex(1e300) == "cb7e37e43c8800759c");
    CHECK(hex(1e20) == "cb4415af1d78b58c40");
    CHECK(hex(-1e300) == "cbfe37e43c8800759c");
    CHECK(hex(18446744073709551616.0) == "cb43f0000000000000");
    // The largest whole doubles inside the range are integers, as in notepack.io.
    CHECK(hex(18446744073709549568.0) == "cffffffffffffff800");
    CHECK(hex(-9223372036854775808.0) == "d38000000000000000");
}

TEST_CASE("msgpack: map keys keep their order; a duplicate key keeps its place", "[msgpack]") {
    auto const d = decode_ok(from_hex("83a162c0a161c0a162c3"));
    auto const& o = d.value.as_object();
    REQUIRE(o.size() == 2);
    CHECK(o.begin()->key() == "b");
    CHECK(o.begin()->value() == true);
    CHECK((o.begin() + 1)->key() == "a");
    CHECK(to_hex(mp::encode(d.value)) == "82a162c3a161c0");
}

TEST_CASE("msgpack: a Redis adapter broadcast decodes and encodes byte for byte", "[msgpack]") {
    auto const expected =
        js(R"(["Ab3xYz",{"type":2,"data":["ev",{"a":1},{"_placeholder":true,"num":0}],"nsp":"/"},)"
           R"({"rooms":["r"],"except":[],"flags":{}}])");
    auto const d = decode_ok(from_hex(redis_broadcast));
    CHECK(d.value == expected);
    CHECK(d.attachments == std::vector<std::string>{std::string("\x01\x02\x03")});
    CHECK(to_hex(mp::encode(expected, d.attachments)) == redis_broadcast);

    auto const request =
        js(R"({"uid":"Ab3xYz","requestId":"Qw9eRt","type":7,)"
           R"("packet":{"type":2,"data":["ev",{"_placeholder":true,"num":0}],"nsp":"/"},)"
           R"("opts":{"rooms":["r"],"except":["s1"],"flags":{"volatile":true}}})");
    auto const r = decode_ok(from_hex(redis_broadcast_request));
    CHECK(r.value == request);
    CHECK(r.attachments == std::vector<std::string>{std::string("\x01\x02\x03")});
    CHECK(to_hex(mp::encode(request, r.attachments)) == redis_broadcast_request);
}

TEST_CASE("msgpack: placeholders are encoded as bin only when they name an attachment",
          "[msgpack]") {
    std::vector<std::string> const one{"\xaa"};
    auto const ph = js(placeholder(0));
    CHECK(to_hex(mp::encode(ph, one)) == "c401aa");
    CHECK(to_hex(mp::encode(ph)) == "82ac5f706c616365686f6c646572c3a36e756d00");
    CHECK(to_hex(mp::encode(js(placeholder(1)), one)) ==
          "82ac5f706c616365686f6c646572c3a36e756d01");
    CHECK(to_hex(mp::encode(js(R"({"_placeholder":false,"num":0})"), one)) ==
          "82ac5f706c616365686f6c646572c2a36e756d00");
}

TEST_CASE("msgpack: every prefix of a valid message is truncated", "[msgpack]") {
    std::vector<std::string> messages{from_hex(redis_broadcast), from_hex(redis_broadcast_request)};
    // Every value of the tables, alone, and in one array (but the maps that look like
    // placeholders, which cannot stand next to a bin).
    std::string all;
    std::size_t n = 0;
    auto const add = [&](std::string_view hex) {
        messages.push_back(from_hex(hex));
        if (hex.find("ac5f706c616365686f6c646572") == std::string_view::npos) {
            all += messages.back();
            ++n;
        }
    };
    for (auto const& r : encode_rows)
        add(r.hex);
    for (auto const& r : decode_rows)
        add(r.hex);
    messages.push_back("\xdc" + std::string(1, static_cast<char>(n >> 8)) +
                       std::string(1, static_cast<char>(n & 0xff)) + all);
    mp::decode_options const opt{.max_depth = 32, .max_attachments = 100};
    for (auto const& m : messages) {
        CAPTURE(to_hex(m));
        REQUIRE(outcome(m, opt) == "ok");
        for (std::size_t i = 0; i < m.size(); ++i) {
            CAPTURE(i);
            CHECK(outcome(std::string_view(m).substr(0, i), opt) == message_of(error::truncated));
        }
    }
}

TEST_CASE("msgpack: lengths larger than the input are truncated, before any allocation",
          "[msgpack]") {
    // 4 GiB of string, bin, array and map, and an ext, claimed by a few bytes. 2^31 - 16
    // elements are within Boost.JSON's limits: an array or map reserved at that length (32 GiB
    // and more) would fail here, with std::bad_alloc or a sanitizer's report (`outcome`
    // requires no exception).
    for (auto hex : {"dbffffffff616263",
                     "c6ffffffff010203",
                     "ddffffffffc0c0c0",
                     "dfffffffffa161c0",
                     "dd7ffffff0c0c0c0",
                     "df7ffffff0a161c0",
                     "c9ffffffffff00",
                     "c8ffff0100",
                     "daffff61",
                     "c5ffff00",
                     "dcffffc0",
                     "deffffa161c0",
                     "dc0003c0c0",
                     "de0002a161c0a162",
                     "82a161c0",
                     "9f",
                     "8f",
                     "bf",
                     "d9ff",
                     "c4ff",
                     "c701ff",
                     "d7ff00000000"}) {
        CAPTURE(hex);
        CHECK(outcome(from_hex(hex)) == message_of(error::truncated));
    }
}

TEST_CASE("msgpack: nesting deeper than max_depth is refused without recursing further",
          "[msgpack]") {
    auto const nested = [](std::size_t depth, std::string_view open, std::string_view leaf) {
        std::string out;
        for (std::size_t i = 0; i < depth; ++i)
            out += from_hex(open);
        return out + from_hex(leaf);
    };
    CHECK(outcome(nested(32, "91", "c0")) == "ok");
    CHECK(outcome(nested(33, "91", "c0")) == message_of(error::too_deep));
    CHECK(outcome(nested(32, "81a161", "c0")) == "ok");
    CHECK(outcome(nested(33, "81a161", "c0")) == message_of(error::too_deep));
    CHECK(outcome(nested(100000, "91", "")) == message_of(error::too_deep));
    CHECK(outcome(nested(100000, "dd00000001", "")) == message_of(error::too_deep));
    mp::decode_options const shallow{.max_depth = 2};
    CHECK(outcome(nested(2, "91", "c0"), shallow) == "ok");
    CHECK(outcome(nested(3, "91", "c0"), shallow) == message_of(error::too_deep));
    CHECK(outcome(from_hex("92c0c0"), {.max_depth = 1}) == "ok");
    CHECK(outcome(from_hex("9290c0"), {.max_depth = 1}) == message_of(error::too_deep));
    CHECK(outcome(from_hex("c0"), {.max_depth = 0}) == "ok");
    CHECK(outcome(from_hex("90"), {.max_depth = 0}) == message_of(error::too_deep));
}

TEST_CASE("msgpack: strings and keys must be UTF-8", "[msgpack]") {
    for (auto hex : {"a1ff", "a2c328", "a2c0af", "a3eda080", "a4f4908080", "a2e282", "a1c3",
                     "d902c328", "81a1ffc0", "9201a3edbfbf"}) {
        CAPTURE(hex);
        CHECK(outcome(from_hex(hex)) == message_of(error::invalid_utf8));
    }
    CHECK(outcome(from_hex("a4f48fbfbf")) == "ok"); // U+10FFFF
    CHECK(outcome(from_hex("a3efbfbf")) == "ok");   // U+FFFF
}

TEST_CASE("msgpack: unsupported types and ext types are refused", "[msgpack]") {
    for (auto hex :
         {"c1", "91c1", "81a161c1",
          // fixext 1 type 0 with other data, and other types
          "d40001", "d40100", "d4ff00",
          // fixext 2 and 16, ext 8/16/32 of other types
          "d5000000", "d8ff00000000000000000000000000000000", "c70105aa", "c7000100", "c8000105aa",
          "c900000001ffaa",
          // notepack.io's legacy date (fixext 8 type 0) and ArrayBuffer (ext type 0)
          "d7000000000000000000", "c70100aa",
          // the timestamp type in other sizes
          "d4ff00", "d5ff0000", "c70bff0000000000000000000000", "c80000ff", "c900000000ff"}) {
        CAPTURE(hex);
        CHECK(outcome(from_hex(hex)) == message_of(error::unsupported_type));
    }
}

TEST_CASE("msgpack: map keys must be strings or integers", "[msgpack]") {
    for (auto hex : {"81c0c0", "81c3c0", "81c2c0", "81ca3fc00000c0", "81cb3ff8000000000000c0",
                     "8190c0", "8180c0", "81c400c0", "81d40000c0", "81d6ff00000000c0", "81c1c0"}) {
        CAPTURE(hex);
        CHECK(outcome(from_hex(hex)) == message_of(error::invalid_key));
    }
}

TEST_CASE("msgpack: one value must fill the input", "[msgpack]") {
    CHECK(outcome("") == message_of(error::truncated));
    for (auto hex : {"c0c0", "9000", "a16161", "c40100ff", "80c1"}) {
        CAPTURE(hex);
        CHECK(outcome(from_hex(hex)) == message_of(error::trailing_bytes));
    }
}

TEST_CASE("msgpack: at most max_attachments bins", "[msgpack]") {
    std::string ten = "\x9a";
    for (int i = 0; i < 10; ++i)
        ten += from_hex("c40101");
    CHECK(outcome(ten) == "ok");
    std::string eleven = "\x9b" + ten.substr(1) + from_hex("c40101");
    CHECK(outcome(eleven) == message_of(error::too_large));
    CHECK(outcome(from_hex("c400"), {.max_attachments = 0}) == message_of(error::too_large));
    CHECK(outcome(from_hex("9281a1619190c400"), {.max_attachments = 0}) ==
          message_of(error::too_large));
}

TEST_CASE("msgpack: a map that looks like a placeholder is refused next to a bin", "[msgpack]") {
    // [{"_placeholder":true,"num":0}, Buffer], and the same map with an extra key: encoded
    // again, either would become a copy of the Buffer.
    CHECK(outcome(from_hex("9282ac5f706c616365686f6c646572c3a36e756d00c401aa")) ==
          message_of(error::ambiguous_placeholder));
    CHECK(outcome(from_hex("92c401aa81ac5f706c616365686f6c646572c3")) ==
          message_of(error::ambiguous_placeholder));
    // Without a bin it is a map like any other; `"_placeholder": false` is no placeholder; a
    // duplicate key decides, as in JavaScript.
    auto const alone = decode_ok(from_hex("82ac5f706c616365686f6c646572c3a36e756d00"));
    CHECK(alone.value == js(placeholder(0)));
    CHECK(alone.attachments.empty());
    CHECK(outcome(from_hex("92c401aa81ac5f706c616365686f6c646572c2")) == "ok");
    CHECK(outcome(from_hex("92c401aa82ac5f706c616365686f6c646572c3ac5f706c616365686f6c646572c2")) ==
          "ok");
    // A map dropped by a duplicate key is gone.
    CHECK(outcome(from_hex("92c401aa82a16181ac5f706c616365686f6c646572c3a161c0")) == "ok");
}

TEST_CASE("msgpack: attachments hold only what the last decoding found", "[msgpack]") {
    std::vector<std::string> attachments{"stale"};
    auto r = mp::decode(from_hex("92c401aac401bb"), attachments);
    REQUIRE(r);
    CHECK(attachments == std::vector<std::string>{"\xaa", "\xbb"});
    r = mp::decode(from_hex("92c401aac1"), attachments);
    CHECK(r.error() == error::unsupported_type);
    CHECK(attachments.empty());
    attachments = {"stale"};
    r = mp::decode(from_hex("c0"), attachments);
    REQUIRE(r);
    CHECK(attachments.empty());
}

TEST_CASE("msgpack: errors have a category and distinct messages", "[msgpack]") {
    std::set<std::string> messages;
    for (auto e : {error::truncated, error::trailing_bytes, error::too_deep,
                   error::unsupported_type, error::invalid_key, error::invalid_utf8,
                   error::too_large, error::ambiguous_placeholder}) {
        boost::system::error_code const ec = e;
        CHECK(ec.category() == mp::msgpack_category());
        CHECK(std::string(ec.category().name()) == "roomcast.msgpack");
        CHECK(ec == e);
        messages.insert(ec.message());
    }
    CHECK(messages.size() == 8);
    CHECK(messages.count("unknown MessagePack error") == 0);
}
