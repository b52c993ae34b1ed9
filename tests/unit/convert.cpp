// Unit tests for roomcast/convert.hpp: from_json (client JSON to C++ payload types, with
// field-naming errors) and to_json (value_from, minus empty optionals in described structs).
#include "catch.hpp"

#include <roomcast/convert.hpp>
#include <roomcast/protocol/json.hpp>

#include <boost/describe/class.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace convert_test {

struct user {
    std::string id;
    std::string name;
};
BOOST_DESCRIBE_STRUCT(user, (), (id, name))

struct item {
    int id = 0;
    std::string label;
    std::optional<double> price;
};
BOOST_DESCRIBE_STRUCT(item, (), (id, label, price))

struct order {
    std::string roomName;
    user owner;
    std::vector<item> items;
    std::optional<std::string> note;
    std::map<std::string, int> counts;
    bool urgent = false;
    std::optional<user> reviewer;
};
BOOST_DESCRIBE_STRUCT(order, (), (roomName, owner, items, note, counts, urgent, reviewer))

// Declared b, a; described a, b: the describe list decides the key order.
struct reordered {
    int b = 2;
    int a = 1;
};
BOOST_DESCRIBE_STRUCT(reordered, (), (a, b))

struct base_msg {
    std::string room;
};
BOOST_DESCRIBE_STRUCT(base_msg, (), (room))

struct text_msg : base_msg {
    std::string text;
    std::optional<std::vector<std::string>> mentions;
};
BOOST_DESCRIBE_STRUCT(text_msg, (base_msg), (text, mentions))

struct menu {
    std::map<std::string, item> byName;
};
BOOST_DESCRIBE_STRUCT(menu, (), (byName))

struct any_payload {
    boost::json::value extra;
    boost::json::object meta;
    boost::json::array list;
};
BOOST_DESCRIBE_STRUCT(any_payload, (), (extra, meta, list))

} // namespace convert_test

namespace json = boost::json;
using namespace convert_test;
using roomcast::conversion_error;
using roomcast::from_json;
using roomcast::to_json;
using roomcast::protocol::serialize;

namespace {

json::value js(std::string_view text) {
    auto v = roomcast::protocol::parse_json(text);
    REQUIRE(v);
    return std::move(*v);
}

// Converts `text` to T and expects success.
template<class T>
T ok(std::string_view text) {
    auto const v = js(text);
    T out{};
    conversion_error err;
    bool const converted = from_json(&v, out, err);
    INFO("converting " << text << ": " << err.message());
    REQUIRE(converted);
    return out;
}

// Converts `text` to T and expects failure; returns the error.
template<class T>
conversion_error fails(std::string_view text) {
    auto const v = js(text);
    T out{};
    conversion_error err;
    bool converted = true;
    REQUIRE_NOTHROW(converted = from_json(&v, out, err));
    INFO("converting " << text);
    CHECK_FALSE(converted);
    return err;
}

std::string const full_order = R"({
    "roomName": "lobby",
    "owner": {"id": "u1", "name": "Ann"},
    "items": [{"id": 1, "label": "tea", "price": 2.5}, {"id": 2, "label": "cake"}],
    "note": "to go",
    "counts": {"tea": 1, "cake": 3},
    "urgent": true,
    "reviewer": {"id": "u2", "name": "Bob"}
})";

} // namespace

TEST_CASE("from_json fills nested structs, vectors, maps and optionals", "[convert]") {
    auto const o = ok<order>(full_order);
    CHECK(o.roomName == "lobby");
    CHECK(o.owner.id == "u1");
    CHECK(o.owner.name == "Ann");
    REQUIRE(o.items.size() == 2);
    CHECK(o.items[0].id == 1);
    CHECK(o.items[0].label == "tea");
    CHECK(o.items[0].price == 2.5);
    CHECK(o.items[1].id == 2);
    CHECK(o.items[1].label == "cake");
    CHECK_FALSE(o.items[1].price);
    CHECK(o.note == std::string("to go"));
    CHECK(o.counts == std::map<std::string, int>{{"tea", 1}, {"cake", 3}});
    CHECK(o.urgent);
    REQUIRE(o.reviewer);
    CHECK(o.reviewer->name == "Bob");
}

TEST_CASE("from_json ignores unknown keys", "[convert]") {
    auto const u = ok<user>(R"({"id":"u1","admin":true,"name":"Ann","nested":{"x":[1,2]}})");
    CHECK(u.id == "u1");
    CHECK(u.name == "Ann");

    auto const o = ok<order>(
        R"({"roomName":"r","owner":{"id":"a","name":"b","age":3},"items":[{"id":1,"label":"x","color":"red"}],"counts":{},"urgent":false,"__proto__":{}})");
    CHECK(o.roomName == "r");
    REQUIRE(o.items.size() == 1);
    CHECK(o.items[0].label == "x");
}

TEST_CASE("from_json: missing or null optionals are empty", "[convert][optional]") {
    auto const missing = ok<order>(
        R"({"roomName":"r","owner":{"id":"a","name":"b"},"items":[],"counts":{},"urgent":false})");
    CHECK_FALSE(missing.note);
    CHECK_FALSE(missing.reviewer);

    auto const null = ok<order>(
        R"({"roomName":"r","owner":{"id":"a","name":"b"},"items":[{"id":1,"label":"x","price":null}],"note":null,"counts":{},"urgent":false,"reviewer":null})");
    CHECK_FALSE(null.note);
    CHECK_FALSE(null.reviewer);
    REQUIRE(null.items.size() == 1);
    CHECK_FALSE(null.items[0].price);

    // A previously set optional is cleared.
    order o;
    o.note = "old";
    conversion_error err;
    auto const v = js(
        R"({"roomName":"r","owner":{"id":"a","name":"b"},"items":[],"counts":{},"urgent":false})");
    REQUIRE(from_json(&v, o, err));
    CHECK_FALSE(o.note);

    // An absent argument (nullptr) converts only to an optional.
    std::optional<int> oi = 5;
    REQUIRE(from_json(nullptr, oi, err));
    CHECK_FALSE(oi);
    int i = 0;
    CHECK_FALSE(from_json(nullptr, i, err));
    CHECK(err.path.empty());
    CHECK(err.got == "nothing");
    CHECK(err.message() == "value: expected integer, got nothing");
}

TEST_CASE("from_json: a missing required field is named", "[convert][errors]") {
    auto const err =
        fails<order>(R"({"owner":{"id":"a","name":"b"},"items":[],"counts":{},"urgent":false})");
    CHECK(err.path == ".roomName");
    CHECK(err.expected == "string");
    CHECK(err.got == "nothing");
    CHECK(err.message() == "field .roomName: expected string, got nothing");

    auto const nested = fails<order>(
        R"({"roomName":"r","owner":{"id":"a"},"items":[],"counts":{},"urgent":false})");
    CHECK(nested.path == ".owner.name");
    CHECK(nested.message() == "field .owner.name: expected string, got nothing");

    auto const flag =
        fails<order>(R"({"roomName":"r","owner":{"id":"a","name":"b"},"items":[],"counts":{}})");
    CHECK(flag.path == ".urgent");
    CHECK(flag.expected == "boolean");
}

TEST_CASE("from_json: a wrong type is reported with its path", "[convert][errors]") {
    SECTION("top-level field") {
        auto const err = fails<user>(R"({"id":5,"name":"b"})");
        CHECK(err.path == ".id");
        CHECK(err.expected == "string");
        CHECK(err.got == "number");
        CHECK(err.message() == "field .id: expected string, got number");
    }
    SECTION("a field of an element of a vector of structs") {
        auto const err = fails<order>(
            R"({"roomName":"r","owner":{"id":"a","name":"b"},"items":[{"id":1,"label":"x"},{"id":"2","label":"y"}],"counts":{},"urgent":false})");
        CHECK(err.path == ".items[1].id");
        CHECK(err.expected == "integer");
        CHECK(err.got == "string");
        CHECK(err.message() == "field .items[1].id: expected integer, got string");
    }
    SECTION("a field of an optional struct") {
        auto const err = fails<order>(
            R"({"roomName":"r","owner":{"id":"a","name":"b"},"items":[],"counts":{},"urgent":false,"reviewer":{"id":"c","name":[]}})");
        CHECK(err.path == ".reviewer.name");
        CHECK(err.got == "array");
    }
    SECTION("an optional of the wrong type") {
        auto const err = fails<order>(
            R"({"roomName":"r","owner":{"id":"a","name":"b"},"items":[],"note":5,"counts":{},"urgent":false})");
        CHECK(err.path == ".note");
        CHECK(err.expected == "string");
        CHECK(err.got == "number");
    }
    SECTION("a map value") {
        auto const err = fails<order>(
            R"({"roomName":"r","owner":{"id":"a","name":"b"},"items":[],"counts":{"tea":1,"cake":"x"},"urgent":false})");
        CHECK(err.path == ".counts.cake");
        CHECK(err.expected == "integer");
        CHECK(err.got == "string");
    }
    SECTION("a vector where an object is expected") {
        auto const err = fails<order>(
            R"({"roomName":"r","owner":["a","b"],"items":[],"counts":{},"urgent":false})");
        CHECK(err.path == ".owner");
        CHECK(err.expected == "object");
        CHECK(err.got == "array");
    }
    SECTION("an element of a plain vector") {
        auto const err = fails<std::vector<int>>("[1,2,null]");
        CHECK(err.path == "[2]");
        CHECK(err.got == "null");
        auto const nested = fails<std::vector<std::vector<std::string>>>(R"([["a"],["b",true]])");
        CHECK(nested.path == "[1][1]");
        CHECK(nested.got == "boolean");
    }
    SECTION("the value itself") {
        auto const err = fails<order>("[]");
        CHECK(err.path.empty());
        CHECK(err.expected == "object");
        CHECK(err.got == "array");
        CHECK(err.message() == "value: expected object, got array");
        CHECK(fails<std::string>("null").message() == "value: expected string, got null");
        CHECK(fails<bool>("1").message() == "value: expected boolean, got number");
        CHECK(fails<double>("\"1\"").message() == "value: expected number, got string");
        CHECK(fails<std::vector<int>>("{}").message() == "value: expected array, got object");
    }
}

TEST_CASE("from_json: maps of structs", "[convert]") {
    auto const m = ok<menu>(
        R"({"byName":{"tea":{"id":1,"label":"tea"},"cake":{"id":2,"label":"cake","price":3}}})");
    REQUIRE(m.byName.size() == 2);
    CHECK(m.byName.at("tea").id == 1);
    CHECK_FALSE(m.byName.at("tea").price);
    CHECK(m.byName.at("cake").price == 3.0);

    auto const err = fails<menu>(
        R"({"byName":{"tea":{"id":1,"label":"tea"},"cake":{"id":2.5,"label":"cake"}}})");
    CHECK(err.path == ".byName.cake.id");
    CHECK(err.message() == "field .byName.cake.id: expected integer in range, got number");
    CHECK(fails<menu>(R"({"byName":[]})").path == ".byName");
}

TEST_CASE("from_json: integers are range-checked", "[convert][integer]") {
    CHECK(ok<std::int8_t>("127") == 127);
    CHECK(ok<std::int8_t>("-128") == -128);
    CHECK(ok<std::int8_t>("127.0") == 127);
    CHECK(ok<std::int8_t>("-128.0") == -128);
    CHECK(ok<std::uint8_t>("255") == 255);
    CHECK(ok<std::uint8_t>("0") == 0);
    CHECK(ok<int>("3.0") == 3);
    CHECK(ok<int>("-3.0") == -3);
    CHECK(ok<int>("3e2") == 300);
    CHECK(ok<unsigned>("4294967295") == 4294967295u);
    CHECK(ok<std::int64_t>("-9223372036854775808") == std::numeric_limits<std::int64_t>::min());
    CHECK(ok<std::int64_t>("9223372036854775807") == std::numeric_limits<std::int64_t>::max());
    CHECK(ok<std::uint64_t>("18446744073709551615") == std::numeric_limits<std::uint64_t>::max());
    CHECK(ok<std::uint64_t>("9007199254740992.0") == 9007199254740992u);

    for (std::string_view text : {"128", "-129", "128.0", "-129.0", "1e300", "-1e300", "3.5", "0.1",
                                  "-0.5", "18446744073709551615"}) {
        CAPTURE(text);
        auto const err = fails<std::int8_t>(text);
        CHECK(err.expected == "integer in range");
        CHECK(err.got == "number");
    }
    for (std::string_view text : {"-1", "-1.0", "256", "1e300", "2.5"}) {
        CAPTURE(text);
        CHECK(fails<std::uint8_t>(text).expected == "integer in range");
    }
    for (std::string_view text : {"-1", "-1.0", "4294967296", "-9223372036854775808"}) {
        CAPTURE(text);
        CHECK(fails<unsigned>(text).expected == "integer in range");
    }
    CHECK(fails<std::uint64_t>("-1").expected == "integer in range");
    CHECK(fails<std::uint64_t>("18446744073709551616.0").expected == "integer in range");
    CHECK(fails<std::int64_t>("18446744073709551615").expected == "integer in range");
    CHECK(fails<std::int64_t>("9223372036854775808").expected == "integer in range");
    CHECK(fails<std::int64_t>("1e300").expected == "integer in range");
    CHECK(fails<int>("2147483648").expected == "integer in range");
    CHECK(fails<int>("2147483648.0").expected == "integer in range");
    CHECK(fails<int>("3.5").message() == "value: expected integer in range, got number");

    // Not numbers at all.
    CHECK(fails<int>("\"3\"").message() == "value: expected integer, got string");
    CHECK(fails<int>("true").message() == "value: expected integer, got boolean");
    CHECK(fails<int>("null").message() == "value: expected integer, got null");
    CHECK(fails<int>("[3]").message() == "value: expected integer, got array");

    // In a struct, the path points at the field.
    auto const err = fails<item>(R"({"id":3.5,"label":"x"})");
    CHECK(err.path == ".id");
    CHECK(err.message() == "field .id: expected integer in range, got number");
}

TEST_CASE("from_json: doubles, booleans, strings", "[convert]") {
    CHECK(ok<double>("1.5") == 1.5);
    CHECK(ok<double>("3") == 3.0);
    CHECK(ok<double>("-3") == -3.0);
    CHECK(ok<double>("18446744073709551615") == 18446744073709551615.0);
    CHECK(ok<float>("0.5") == 0.5f);
    CHECK(ok<bool>("true"));
    CHECK_FALSE(ok<bool>("false"));
    CHECK(ok<std::string>(R"("a\"b\u00e9")") == "a\"b\xc3\xa9");
    CHECK(ok<std::string>(R"("")").empty());
    CHECK(ok<std::vector<std::string>>(R"(["a","b"])") == std::vector<std::string>{"a", "b"});
    CHECK(ok<std::vector<int>>("[]").empty());
    CHECK(ok<std::map<std::string, double>>(R"({"x":1,"y":2.5})") ==
          std::map<std::string, double>{{"x", 1.0}, {"y", 2.5}});
    auto const opt = ok<std::optional<std::vector<int>>>("[1,2]");
    REQUIRE(opt);
    CHECK(*opt == std::vector<int>{1, 2});
    CHECK_FALSE(ok<std::optional<std::vector<int>>>("null"));
}

TEST_CASE("from_json: boost::json value, object and array pass through", "[convert]") {
    auto const p = ok<any_payload>(R"({"extra":[1,{"a":null}],"meta":{"k":"v"},"list":[true]})");
    CHECK(p.extra == js(R"([1,{"a":null}])"));
    CHECK(p.meta == js(R"({"k":"v"})").as_object());
    CHECK(p.list == js("[true]").as_array());

    CHECK(ok<any_payload>(R"({"extra":null,"meta":{},"list":[]})").extra.is_null());
    CHECK(ok<json::value>("\"s\"") == json::value("s"));

    auto const missing = fails<any_payload>(R"({"meta":{},"list":[]})");
    CHECK(missing.path == ".extra");
    CHECK(missing.got == "nothing");
    CHECK(fails<any_payload>(R"({"extra":1,"meta":[],"list":[]})").path == ".meta");
    CHECK(fails<any_payload>(R"({"extra":1,"meta":{},"list":{}})").path == ".list");
}

TEST_CASE("from_json: inherited members of described structs", "[convert]") {
    auto const m = ok<text_msg>(R"({"room":"r1","text":"hi","mentions":["a"]})");
    CHECK(m.room == "r1");
    CHECK(m.text == "hi");
    REQUIRE(m.mentions);
    CHECK(*m.mentions == std::vector<std::string>{"a"});

    auto const err = fails<text_msg>(R"({"text":"hi"})");
    CHECK(err.path == ".room");
    auto const deep = fails<text_msg>(R"({"room":"r","text":"hi","mentions":["a",2]})");
    CHECK(deep.path == ".mentions[1]");
}

TEST_CASE("to_json leaves out empty optionals and keeps the describe order", "[convert][to_json]") {
    item const plain{7, "tea", std::nullopt};
    CHECK(serialize(to_json(plain)) == R"({"id":7,"label":"tea"})");
    item const priced{7, "tea", 2.5};
    CHECK(serialize(to_json(priced)) == R"({"id":7,"label":"tea","price":2.5})");

    CHECK(serialize(to_json(reordered{})) == R"({"a":1,"b":2})");

    order o;
    o.roomName = "lobby";
    o.owner = {"u1", "Ann"};
    o.items = {{1, "tea", 2.5}, {2, "cake", std::nullopt}};
    o.counts = {{"tea", 1}};
    CHECK(
        serialize(to_json(o)) ==
        R"({"roomName":"lobby","owner":{"id":"u1","name":"Ann"},"items":[{"id":1,"label":"tea","price":2.5},{"id":2,"label":"cake"}],"counts":{"tea":1},"urgent":false})");

    o.note = "";
    o.reviewer = user{"u2", "Bob"};
    CHECK(
        serialize(to_json(o)) ==
        R"({"roomName":"lobby","owner":{"id":"u1","name":"Ann"},"items":[{"id":1,"label":"tea","price":2.5},{"id":2,"label":"cake"}],"note":"","counts":{"tea":1},"urgent":false,"reviewer":{"id":"u2","name":"Bob"}})");

    text_msg t;
    t.room = "r";
    t.text = "hi";
    CHECK(serialize(to_json(t)) == R"({"room":"r","text":"hi"})");
    t.mentions = std::vector<std::string>{};
    CHECK(serialize(to_json(t)) == R"({"room":"r","text":"hi","mentions":[]})");
}

TEST_CASE("to_json of vectors and optionals", "[convert][to_json]") {
    std::vector<item> const items = {{1, "a", std::nullopt}, {2, "b", 0.5}};
    CHECK(serialize(to_json(items)) ==
          R"([{"id":1,"label":"a"},{"id":2,"label":"b","price":0.5}])");

    std::vector<std::vector<item>> const nested = {{}, {{3, "c", std::nullopt}}};
    CHECK(serialize(to_json(nested)) == R"([[],[{"id":3,"label":"c"}]])");

    std::optional<item> const some = item{4, "d", std::nullopt};
    CHECK(serialize(to_json(some)) == R"({"id":4,"label":"d"})");
    CHECK(serialize(to_json(std::optional<item>{})) == "null");

    // In an array an empty optional is null, as JSON.stringify writes undefined there.
    std::vector<std::optional<int>> const holes = {1, std::nullopt, 3};
    CHECK(serialize(to_json(holes)) == "[1,null,3]");

    CHECK(serialize(to_json(std::vector<int>{})) == "[]");
    CHECK(serialize(to_json(std::string("s"))) == R"("s")");
    CHECK(serialize(to_json(42)) == "42");
    CHECK(serialize(to_json(true)) == "true");
    CHECK(serialize(to_json(std::map<std::string, int>{{"b", 2}, {"a", 1}})) == R"({"a":1,"b":2})");
}

// The header's rule is that an empty optional member of a described struct is left out, as
// JSON.stringify leaves out undefined; from_json reads std::map<std::string, T>, so a struct can
// reach to_json inside a map too. JSON.stringify({byName:{tea:{id:1,label:"tea"}}}) has no
// "price".
TEST_CASE("to_json leaves out empty optionals of structs held in a map", "[convert][to_json]") {
    std::map<std::string, item> const by_name = {{"tea", {1, "tea", std::nullopt}}};
    CHECK(serialize(to_json(by_name)) == R"({"tea":{"id":1,"label":"tea"}})");

    menu m;
    m.byName = by_name;
    CHECK(serialize(to_json(m)) == R"({"byName":{"tea":{"id":1,"label":"tea"}}})");
}

TEST_CASE("to_json then from_json gives back the value", "[convert][to_json]") {
    order o;
    o.roomName = "lobby";
    o.owner = {"u1", "Ann"};
    o.items = {{1, "tea", 2.5}, {2, "cake", std::nullopt}};
    o.note = "n";
    o.counts = {{"tea", 1}, {"cake", 2}};
    o.urgent = true;

    auto const v = to_json(o);
    order back;
    conversion_error err;
    REQUIRE(from_json(&v, back, err));
    CHECK(back.roomName == o.roomName);
    CHECK(back.owner.id == o.owner.id);
    CHECK(back.owner.name == o.owner.name);
    REQUIRE(back.items.size() == 2);
    CHECK(back.items[0].price == 2.5);
    CHECK_FALSE(back.items[1].price);
    CHECK(back.note == o.note);
    CHECK(back.counts == o.counts);
    CHECK(back.urgent);
    CHECK_FALSE(back.reviewer);
}

namespace {
struct file_msg {
    std::string name;
    roomcast::binary data;
    std::vector<roomcast::binary> parts;
};
BOOST_DESCRIBE_STRUCT(file_msg, (), (name, data, parts))
} // namespace

TEST_CASE("binary: placeholders resolve to the packet's attachments", "[convert][binary]") {
    std::vector<std::string> const att = {"first", std::string("\x00\xff", 2)};
    auto const v = *roomcast::protocol::parse_json(
        R"({"name":"f","data":{"_placeholder":true,"num":1},"parts":[{"_placeholder":true,"num":0}]})");
    file_msg out;
    roomcast::conversion_error err;
    REQUIRE(roomcast::from_json(&v, out, err, att));
    CHECK(out.data.view() == att[1]);
    REQUIRE(out.parts.size() == 1);
    CHECK(out.parts[0].view() == "first");

    // A placeholder past the attachments, or no placeholder at all, is an error naming the field.
    auto const bad =
        *roomcast::protocol::parse_json(R"({"name":"f","data":{"_placeholder":true,"num":2}})");
    CHECK_FALSE(roomcast::from_json(&bad, out, err, att));
    CHECK(err.message() == "field .data: expected binary, got object");
    auto const text = *roomcast::protocol::parse_json(R"({"name":"f","data":"AAE="})");
    CHECK_FALSE(roomcast::from_json(&text, out, err, att));
    CHECK(err.message() == "field .data: expected binary, got string");
}

TEST_CASE("binary: emitted values become placeholders and attachments", "[convert][binary]") {
    file_msg m{"f",
               roomcast::binary(std::string_view("abc")),
               {roomcast::binary(std::string_view("x")), roomcast::binary(std::string_view("y"))}};
    auto const p =
        roomcast::detail::make_payload("file", m, roomcast::binary(std::string_view("z")));
    CHECK(roomcast::protocol::serialize(p.args) ==
          R"(["file",{"name":"f","data":{"_placeholder":true,"num":0},"parts":[)"
          R"({"_placeholder":true,"num":1},{"_placeholder":true,"num":2}]},)"
          R"({"_placeholder":true,"num":3}])");
    CHECK(p.attachments == std::vector<std::string>{"abc", "x", "y", "z"});
    // Outside an emit there is nowhere to put the bytes.
    CHECK_THROWS_AS(roomcast::to_json(roomcast::binary(std::string_view("q"))), std::logic_error);
    // And nothing leaks from one packet into the next.
    auto const q = roomcast::detail::make_payload(std::nullopt, 1);
    CHECK(q.attachments.empty());
}

TEST_CASE("arguments: emitted again with their attachments, placeholders renumbered",
          "[convert][binary][arguments]") {
    roomcast::arguments args(
        roomcast::protocol::parse_json(
            R"([1,{"_placeholder":true,"num":0},{"deep":[{"_placeholder":true,"num":1}]}])")
            ->as_array(),
        {"A", "B"});
    // Alone: the same values and bytes.
    auto const alone = roomcast::detail::make_payload("echo", args);
    CHECK(roomcast::protocol::serialize(alone.args) ==
          R"(["echo",1,{"_placeholder":true,"num":0},{"deep":[{"_placeholder":true,"num":1}]}])");
    CHECK(alone.attachments == std::vector<std::string>{"A", "B"});
    // After another attachment: every placeholder moves up by one.
    auto const after = roomcast::detail::make_payload(
        "relay", roomcast::binary(std::string_view("first")), args, 2);
    CHECK(roomcast::protocol::serialize(after.args) ==
          R"(["relay",{"_placeholder":true,"num":0},1,{"_placeholder":true,"num":1},)"
          R"({"deep":[{"_placeholder":true,"num":2}]},2])");
    CHECK(after.attachments == std::vector<std::string>{"first", "A", "B"});
    // The source is unchanged, and get() converts an argument as a handler parameter would.
    CHECK(args.attachments.size() == 2);
    roomcast::binary b;
    roomcast::conversion_error err;
    REQUIRE(args.get(1, b, err));
    CHECK(b.view() == "A");
    std::string s;
    CHECK_FALSE(args.get(0, s, err));
    CHECK(err.message() == "value: expected string, got number");
    CHECK_FALSE(args.get(9, s, err));
    CHECK(err.message() == "value: expected string, got nothing");
}
