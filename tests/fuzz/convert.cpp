// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
//
// Fuzz target: the typed payload decoder (roomcast/convert.hpp, from_json) as an event handler
// uses it. The input is JSON: an array is an event's arguments; anything else is read as the
// inside of that array (one value is one argument, `1,"a"` two). The arguments are converted, as
// roomcast converts them for a handler, into the parameters of a few realistic handlers:
// described structs with optional, vector and map members, nested and inherited structs,
// integers of every width, floating point, bool, JSON values and binary attachments (three come
// with the packet; placeholders may name others), and a handler that forwards its `arguments`.
//
// A conversion never throws; a failure names what was expected and what was found; and a
// success is exact: the values, sent back with to_json (the way emit sends them), convert to
// the same values again, in memory and through the wire's JSON text.

#include "check.hpp"
#include "json_values.hpp"

#include <roomcast/convert.hpp>
#include <roomcast/protocol/json.hpp>
#include <roomcast/protocol/socketio.hpp>

#include <boost/describe/class.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace fuzz_payloads {

struct user {
    std::string id;
    std::string name;
    friend bool operator==(user const&, user const&) = default;
};
BOOST_DESCRIBE_STRUCT(user, (), (id, name))

struct item {
    int id = 0;
    std::string label;
    std::optional<double> price;
    std::uint16_t quantity = 0;
    friend bool operator==(item const&, item const&) = default;
};
BOOST_DESCRIBE_STRUCT(item, (), (id, label, price, quantity))

struct order {
    std::string roomName;
    user owner;
    std::vector<item> items;
    std::optional<std::string> note;
    std::map<std::string, int> counts;
    bool urgent = false;
    std::optional<user> reviewer;
    std::int64_t createdAt = 0;
    std::uint64_t serial = 0;
    float weight = 0;
    friend bool operator==(order const&, order const&) = default;
};
BOOST_DESCRIBE_STRUCT(order, (),
                      (roomName, owner, items, note, counts, urgent, reviewer, createdAt, serial,
                       weight))

struct chat_message {
    std::string text;
    std::optional<std::string> replyTo;
    std::vector<std::string> mentions;
    bool pinned = false;
    std::optional<boost::json::object> extra;
    friend bool operator==(chat_message const&, chat_message const&) = default;
};
BOOST_DESCRIBE_STRUCT(chat_message, (), (text, replyTo, mentions, pinned, extra))

struct routed : chat_message {
    std::string room;
    friend bool operator==(routed const&, routed const&) = default;
};
BOOST_DESCRIBE_STRUCT(routed, (chat_message), (room))

struct upload {
    std::string name;
    roomcast::binary data;
    std::vector<roomcast::binary> parts;
    std::optional<roomcast::binary> thumbnail;
    std::map<std::string, roomcast::binary> extra;
    friend bool operator==(upload const&, upload const&) = default;
};
BOOST_DESCRIBE_STRUCT(upload, (), (name, data, parts, thumbnail, extra))

struct reading {
    std::int8_t level = 0;
    std::uint8_t flags = 0;
    std::int16_t delta = 0;
    std::uint32_t count = 0;
    long long total = 0;
    unsigned long long big = 0;
    double value = 0;
    std::optional<float> ratio;
    std::vector<std::optional<double>> samples;
    std::unordered_map<std::string, std::vector<int>> series;
    friend bool operator==(reading const&, reading const&) = default;
};
BOOST_DESCRIBE_STRUCT(reading, (),
                      (level, flags, delta, count, total, big, value, ratio, samples, series))

} // namespace fuzz_payloads

namespace {

namespace fp = fuzz_payloads;
namespace json = boost::json;
namespace sio = roomcast::protocol::socketio;

/// The attachments that come with the packet.
std::vector<std::string> const attachments = {std::string("\x00\x01\x02\xff", 4), "", "attachment"};

void check_error(roomcast::conversion_error const& err, std::size_t input_size) {
    ROOMCAST_FUZZ_CHECK(!err.expected.empty());
    static constexpr std::string_view kinds[] = {"null",  "boolean", "number", "string",
                                                 "array", "object",  "nothing"};
    bool known = false;
    for (auto const k : kinds)
        known = known || err.got == k;
    ROOMCAST_FUZZ_CHECK(known);
    // The path is made of the input's keys and indices: bounded by the input.
    ROOMCAST_FUZZ_CHECK(err.path.size() <= 4 * input_size + 64);
    ROOMCAST_FUZZ_CHECK(!err.message().empty());
}

/// Converts argument `I` of `args` for a parameter of type `T`, as roomcast does for a handler:
/// an absent argument is absent, and a trailing `arguments` takes the rest.
template<std::size_t I, class T>
bool convert_one(json::array const& args, std::span<std::string const> files, T& out,
                 roomcast::conversion_error& err) {
    if constexpr (std::is_same_v<T, roomcast::arguments>) {
        auto const from = args.begin() + static_cast<std::ptrdiff_t>(std::min(I, args.size()));
        out = roomcast::arguments(json::array(from, args.end()),
                                  std::vector<std::string>(files.begin(), files.end()));
        return true;
    } else {
        return roomcast::from_json(I < args.size() ? &args[I] : nullptr, out, err, files);
    }
}

/// Converts `args` into the parameters `P...`. True if all converted.
template<class... P, std::size_t... I>
bool convert_all(json::array const& args, std::span<std::string const> files, std::tuple<P...>& out,
                 std::size_t input_size, std::index_sequence<I...>) {
    roomcast::conversion_error err;
    bool ok = true;
    ((ok = ok && convert_one<I>(args, files, std::get<I>(out), err)), ...);
    if (!ok)
        check_error(err, input_size);
    return ok;
}

/// Whether `a` (with attachments `fa`) and `b` (with `fb`) are the same values, where a
/// placeholder equals a placeholder for the same bytes, whatever its number, and a number
/// equals the same number of another kind.
bool same_resolved(json::value const& a, std::span<std::string const> fa, json::value const& b,
                   std::span<std::string const> fb) {
    auto const ia = sio::placeholder_index(a);
    auto const ib = sio::placeholder_index(b);
    if (ia || ib) {
        if (!ia || !ib || *ia >= fa.size() || *ib >= fb.size())
            return false;
        return fa[*ia] == fb[*ib];
    }
    if (a.is_number() && b.is_number() && a.kind() != b.kind()) {
        // JSON respelled a double as an integer (0.0 comes back as 0): the same number.
        return a.to_number<double>() == b.to_number<double>();
    }
    if (a.kind() != b.kind())
        return false;
    if (auto const* x = a.if_array()) {
        auto const& y = b.get_array();
        if (x->size() != y.size())
            return false;
        for (std::size_t i = 0; i < x->size(); ++i)
            if (!same_resolved((*x)[i], fa, y[i], fb))
                return false;
        return true;
    }
    if (auto const* x = a.if_object()) {
        auto const& y = b.get_object();
        if (x->size() != y.size())
            return false;
        for (auto i = x->begin(), j = y.begin(); i != x->end(); ++i, ++j)
            if (i->key() != j->key() || !same_resolved(i->value(), fa, j->value(), fb))
                return false;
        return true;
    }
    return a == b;
}

template<class T>
bool same(T const& a, T const& b) {
    return a == b;
}

/// `arguments` refer to their attachments by number: sent after other attachments, their
/// placeholders are renumbered, and they must still name the same bytes.
bool same(roomcast::arguments const& a, roomcast::arguments const& b) {
    return same_resolved(json::value(json::array(a)), a.attachments, json::value(json::array(b)),
                         b.attachments);
}

template<class... P>
bool same_values(std::tuple<P...> const& a, std::tuple<P...> const& b) {
    return std::apply(
        [&](auto const&... x) {
            return std::apply([&](auto const&... y) { return (same(x, y) && ...); }, b);
        },
        a);
}

template<class... P>
roomcast::detail::payload send(std::tuple<P...> const& v) {
    return std::apply(
        [](auto const&... x) { return roomcast::detail::make_payload(std::nullopt, x...); }, v);
}

/// How the values that came back through the wire's text are compared with the first ones.
enum class wire_check {
    values, ///< the same values
    text,   ///< the same text: JSON values pass through as they are, and JSON respells a
            ///< number the same way each time, but not always as the same kind (1.0 as 1)
};

template<wire_check Check, class... P>
void handler(json::array const& args, std::size_t input_size) {
    using values = std::tuple<P...>;
    auto const seq = std::index_sequence_for<P...>{};
    values v;
    if (!convert_all(args, attachments, v, input_size, seq))
        return;

    // `arguments::get` converts as a parameter does.
    roomcast::arguments const wrapped(args, attachments);
    std::apply(
        [&](auto const&... x) {
            std::size_t i = 0;
            auto const check_get = [&](auto const& expected) {
                using T = std::remove_cvref_t<decltype(expected)>;
                if constexpr (!std::is_same_v<T, roomcast::arguments>) {
                    T got{};
                    roomcast::conversion_error err;
                    ROOMCAST_FUZZ_CHECK(wrapped.get(i, got, err));
                    ROOMCAST_FUZZ_CHECK(got == expected);
                }
                ++i;
            };
            (check_get(x), ...);
        },
        v);

    // Sent back as emit sends them, the values convert to themselves.
    auto const sent = send(v);
    values back;
    ROOMCAST_FUZZ_CHECK(convert_all(sent.args, sent.attachments, back, input_size, seq));
    ROOMCAST_FUZZ_CHECK(same_values(back, v));

    // And through the wire's text, unless a number had no JSON spelling (1e400 is written as
    // null, as JSON.stringify writes Infinity).
    auto const text = roomcast::protocol::serialize(sent.args);
    auto const parsed = roomcast::protocol::parse_json(text);
    ROOMCAST_FUZZ_CHECK(parsed.has_value() && parsed->is_array());
    if (roomcast::fuzz::holds_non_finite(sent.args))
        return;
    values wire;
    ROOMCAST_FUZZ_CHECK(convert_all(parsed->get_array(), sent.attachments, wire, input_size, seq));
    if constexpr (Check == wire_check::values) {
        ROOMCAST_FUZZ_CHECK(same_values(wire, v));
    } else {
        auto const again = send(wire);
        ROOMCAST_FUZZ_CHECK(roomcast::protocol::serialize(again.args) == text);
        ROOMCAST_FUZZ_CHECK(again.attachments == sent.attachments);
    }
}

/// The arguments' text in `input`: inside the brackets of an array, else all of it.
std::string_view arguments_text(std::string_view input) {
    auto const ws = " \t\n\r";
    auto const first = input.find_first_not_of(ws);
    auto const last = input.find_last_not_of(ws);
    if (first == std::string_view::npos || input[first] != '[' || input[last] != ']' ||
        last == first)
        return input;
    auto const inner = input.substr(first + 1, last - first - 1);
    // `[1],[2]` is two arguments, not the text between its outer brackets.
    auto const v = roomcast::protocol::parse_json(input);
    return v && v->is_array() ? inner : input;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    // Parsed as the server parses a packet's JSON (an array: the event's name, then the
    // arguments). Not with boost::json::parse: Boost 1.81 reads 0e+318 as NaN, which no packet
    // can hold.
    auto const inner = std::string(arguments_text(roomcast::fuzz::as_text(data, size)));
    bool const none = inner.find_first_not_of(" \t\n\r") == std::string::npos;
    auto const v = roomcast::protocol::parse_json("[" + inner + "]");
    if (!v || !v->is_array())
        return 0;
    auto const& args = v->get_array();

    using enum wire_check;
    handler<text, std::string, fp::chat_message, std::optional<std::uint32_t>>(args, size);
    handler<text, fp::routed, std::optional<bool>>(args, size);
    handler<values, fp::order>(args, size);
    handler<values, fp::order, std::vector<fp::item>, std::map<std::string, fp::user>>(args, size);
    handler<values, fp::upload, std::vector<roomcast::binary>, std::optional<roomcast::binary>>(
        args, size);
    handler<values, fp::reading, double, std::int64_t, std::uint64_t>(args, size);
    handler<text, json::value, json::object, json::array, std::optional<std::string>>(args, size);
    handler<values, std::vector<std::vector<std::optional<fp::user>>>,
            std::map<std::string, double>>(args, size);
    // A handler that forwards what it was sent, after an attachment of its own: for what a
    // binary event with three attachments can bring, as the decoder reads the client's text.
    auto const packet = sio::decode("53-[\"ev\"" + (none ? "" : "," + inner) + "]");
    if (packet && packet->data.is_array()) {
        auto const& decoded = packet->data.get_array();
        handler<values, roomcast::binary, roomcast::arguments>(
            json::array(decoded.begin() + 1, decoded.end()), size);
    }
    return 0;
}
