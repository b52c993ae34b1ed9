// Helpers of the unit tests whose expected bytes were written by Node.js code (notepack.io,
// @socket.io/redis-adapter): bytes as hex, and JSON compared as JavaScript compares values.
#ifndef ROOMCAST_TESTS_NODE_BYTES_HPP
#define ROOMCAST_TESTS_NODE_BYTES_HPP

#include "catch.hpp"

#include <roomcast/protocol/json.hpp>

#include <boost/json/value.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace roomcast::test {

inline std::string from_hex(std::string_view hex) {
    auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        out += static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1]));
    return out;
}

inline std::string to_hex(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

inline std::vector<std::string> from_hex(std::vector<std::string_view> const& hex) {
    std::vector<std::string> out;
    for (auto h : hex)
        out.push_back(from_hex(h));
    return out;
}

/// The JSON `text`, which the test requires to parse.
inline boost::json::value js(std::string_view text) {
    auto v = protocol::parse_json(text);
    INFO(text);
    REQUIRE(v);
    return std::move(*v);
}

/// Equality as JavaScript sees the values: numbers are equal when they are the same double
/// (JavaScript has no other number), object keys in any order (JavaScript puts integer keys
/// first).
inline bool js_equal(boost::json::value const& a, boost::json::value const& b) {
    if (a.is_number() && b.is_number())
        return a.to_number<double>() == b.to_number<double>();
    if (a.kind() != b.kind())
        return false;
    if (auto const* x = a.if_array()) {
        auto const& y = b.get_array();
        if (x->size() != y.size())
            return false;
        for (std::size_t i = 0; i < x->size(); ++i)
            if (!js_equal((*x)[i], y[i]))
                return false;
        return true;
    }
    if (auto const* x = a.if_object()) {
        auto const& y = b.get_object();
        if (x->size() != y.size())
            return false;
        for (auto const& kv : *x) {
            auto const* other = y.if_contains(kv.key());
            if (!other || !js_equal(kv.value(), *other))
                return false;
        }
        return true;
    }
    return a == b;
}

} // namespace roomcast::test

#endif
