// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_PROTOCOL_JSON_HPP
#define ROOMCAST_PROTOCOL_JSON_HPP

// JSON text exactly as JavaScript's JSON.stringify writes it (ECMA-262 §25.5.2), so that
// clients and tests can compare strings. Boost.JSON's serializer differs on numbers
// (it writes 1.5 as "1.5E0") and cannot be used on the wire.

#include <roomcast/protocol/error.hpp>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_stack.hpp>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

namespace roomcast::protocol {

/// Appends the ECMAScript Number::toString form of `x` (JSON.stringify writes null for
/// non-finite numbers and "0" for -0).
inline void append_number(std::string& out, double x) {
    if (!std::isfinite(x)) {
        out += "null";
        return;
    }
    if (x == 0) {
        out += '0';
        return;
    }
    char buf[32];
    // Shortest round-trip digits, as ECMAScript requires; parse "d.ddde±x" into digits + n.
    auto const r = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::scientific);
    std::string_view const s(buf, static_cast<std::size_t>(r.ptr - buf));
    std::size_t i = 0;
    if (s[0] == '-') {
        out += '-';
        i = 1;
    }
    auto const e_pos = s.find('e');
    char digits[24];
    int k = 0;
    for (std::size_t j = i; j < e_pos; ++j)
        if (s[j] != '.')
            digits[k++] = s[j];
    int exp10 = 0;
    std::from_chars(s.data() + e_pos + (s[e_pos + 1] == '+' ? 2 : 1), s.data() + s.size(), exp10);
    int const n = exp10 + 1; // value = 0.d1d2...dk * 10^n
    std::string_view const d(digits, static_cast<std::size_t>(k));
    if (k <= n && n <= 21) {
        out += d;
        out.append(static_cast<std::size_t>(n - k), '0');
    } else if (0 < n && n <= 21) {
        out += d.substr(0, static_cast<std::size_t>(n));
        out += '.';
        out += d.substr(static_cast<std::size_t>(n));
    } else if (-6 < n && n <= 0) {
        out += "0.";
        out.append(static_cast<std::size_t>(-n), '0');
        out += d;
    } else {
        out += d[0];
        if (k > 1) {
            out += '.';
            out += d.substr(1);
        }
        out += 'e';
        out += n - 1 >= 0 ? '+' : '-';
        char eb[8];
        auto const er = std::to_chars(eb, eb + sizeof eb, std::abs(n - 1));
        out.append(eb, er.ptr);
    }
}

/// Appends `s` as a JSON string literal the way JSON.stringify quotes it (ECMA-262
/// QuoteJSONString): short escapes for `\b \t \n \f \r`, `\u00xx` for other controls.
inline void append_string(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    std::size_t run = 0; // start of the pending run of bytes that need no escape
    for (std::size_t i = 0; i < s.size(); ++i) {
        auto const c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        out.append(s.data() + run, i - run);
        run = i + 1;
        out += '\\';
        switch (c) {
        case '"':
            out += '"';
            break;
        case '\\':
            out += '\\';
            break;
        case '\b':
            out += 'b';
            break;
        case '\t':
            out += 't';
            break;
        case '\n':
            out += 'n';
            break;
        case '\f':
            out += 'f';
            break;
        case '\r':
            out += 'r';
            break;
        default:
            out += "u00";
            out += hex[c >> 4];
            out += hex[c & 0xf];
        }
    }
    out.append(s.data() + run, s.size() - run);
    out += '"';
}

/// Appends the JSON.stringify text of `v`: compact, object keys in insertion order.
inline void serialize_to(std::string& out, boost::json::value const& v) {
    switch (v.kind()) {
    case boost::json::kind::null:
        out += "null";
        return;
    case boost::json::kind::bool_:
        out += v.get_bool() ? "true" : "false";
        return;
    case boost::json::kind::int64:
    case boost::json::kind::uint64: {
        char buf[24];
        auto const r = v.is_int64() ? std::to_chars(buf, buf + sizeof buf, v.get_int64())
                                    : std::to_chars(buf, buf + sizeof buf, v.get_uint64());
        out.append(buf, r.ptr);
        return;
    }
    case boost::json::kind::double_:
        append_number(out, v.get_double());
        return;
    case boost::json::kind::string:
        append_string(out, v.get_string());
        return;
    case boost::json::kind::array: {
        out += '[';
        bool first = true;
        for (auto const& e : v.get_array()) {
            if (!first)
                out += ',';
            first = false;
            serialize_to(out, e);
        }
        out += ']';
        return;
    }
    case boost::json::kind::object: {
        out += '{';
        bool first = true;
        for (auto const& kv : v.get_object()) {
            if (!first)
                out += ',';
            first = false;
            append_string(out, kv.key());
            out += ':';
            serialize_to(out, kv.value());
        }
        out += '}';
        return;
    }
    }
}

/// The JSON.stringify text of `v`. One deliberate difference: integers beyond 2^53 are
/// written exactly (a C++ server's 64-bit ids reach Python and C++ clients intact), where
/// JavaScript can only hold, and would write, the nearest double.
inline std::string serialize(boost::json::value const& v) {
    std::string out;
    serialize_to(out, v);
    return out;
}

/// How deeply client JSON may nest. Boost.JSON's default is 32, tighter than real clients
/// need; the bound exists because decoding and serializing recurse.
inline constexpr std::size_t max_json_depth = 64;

namespace detail {
/// Builds a value like boost::json::parser, but reads each non-integer number from its text
/// with std::from_chars: Boost 1.81's own conversion is not correctly rounded (it reads
/// 92.50388589283949 as 92.50388589283948), and JSON.parse is.
struct json_handler {
    static constexpr std::size_t max_object_size = boost::json::object::max_size();
    static constexpr std::size_t max_array_size = boost::json::array::max_size();
    static constexpr std::size_t max_key_size = boost::json::string::max_size();
    static constexpr std::size_t max_string_size = boost::json::string::max_size();

    using ec_t = boost::system::error_code;
    using sv = boost::json::string_view;

    /// `temp` is where the stack keeps values under construction until it outgrows it.
    json_handler(unsigned char* temp, std::size_t size)
        : st({}, temp, size) {}

    boost::json::value_stack st;
    std::string number; // the parts of a number split across input chunks

    bool on_document_begin(ec_t&) { return true; }
    bool on_document_end(ec_t&) { return true; }
    bool on_object_begin(ec_t&) { return true; }
    bool on_object_end(std::size_t n, ec_t&) {
        st.push_object(n);
        return true;
    }
    bool on_array_begin(ec_t&) { return true; }
    bool on_array_end(std::size_t n, ec_t&) {
        st.push_array(n);
        return true;
    }
    bool on_key_part(sv s, std::size_t, ec_t&) {
        st.push_chars(s);
        return true;
    }
    bool on_key(sv s, std::size_t, ec_t&) {
        st.push_key(s);
        return true;
    }
    bool on_string_part(sv s, std::size_t, ec_t&) {
        st.push_chars(s);
        return true;
    }
    bool on_string(sv s, std::size_t, ec_t&) {
        st.push_string(s);
        return true;
    }
    bool on_number_part(sv s, ec_t&) {
        number.append(s.data(), s.size());
        return true;
    }
    bool on_int64(std::int64_t i, sv, ec_t&) {
        number.clear();
        st.push_int64(i);
        return true;
    }
    bool on_uint64(std::uint64_t u, sv, ec_t&) {
        number.clear();
        st.push_uint64(u);
        return true;
    }
    bool on_double(double d, sv s, ec_t&) {
        number.append(s.data(), s.size());
        double exact = 0;
        auto const r = std::from_chars(number.data(), number.data() + number.size(), exact);
        // Out of range (1e400): from_chars reports it; keep Boost's answer (infinity).
        if (r.ec == std::errc() && r.ptr == number.data() + number.size())
            d = exact;
        number.clear();
        st.push_double(d);
        return true;
    }
    bool on_bool(bool b, ec_t&) {
        st.push_bool(b);
        return true;
    }
    bool on_null(ec_t&) {
        st.push_null();
        return true;
    }
    bool on_comment_part(sv, ec_t&) { return true; }
    bool on_comment(sv, ec_t&) { return true; }
};
} // namespace detail

/// Parses client JSON (RFC 8259, valid UTF-8 only) with a bounded nesting depth, reading
/// numbers as JSON.parse does (the nearest double).
inline result<boost::json::value> parse_json(std::string_view text,
                                             std::size_t max_depth = max_json_depth) {
    boost::json::parse_options opt;
    opt.max_depth = max_depth;
    // The stack of values under construction starts on this frame, so most packets need no
    // heap for it (the finished values still come from the default storage).
    alignas(boost::json::value) unsigned char temp[1024];
    boost::json::basic_parser<detail::json_handler> p(opt, temp, sizeof temp);
    p.handler().st.reset();
    boost::system::error_code ec;
    auto const n = p.write_some(false, text.data(), text.size(), ec);
    if (ec || n != text.size())
        return error::invalid_json;
    return p.handler().st.release();
}

} // namespace roomcast::protocol

#endif
