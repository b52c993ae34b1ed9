// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_PROTOCOL_MSGPACK_HPP
#define ROOMCAST_PROTOCOL_MSGPACK_HPP

// MessagePack (https://github.com/msgpack/msgpack/blob/master/spec.md) as notepack.io 3.x
// writes and reads it: the encoding of the messages @socket.io/redis-adapter 8.x exchanges
// between servers. Pure functions, no I/O.
//
// JSON stands for the JavaScript values on the wire: a Node Buffer (msgpack `bin`) is a
// Socket.IO placeholder, `{"_placeholder":true,"num":i}`, standing for attachments[i], as in
// the packets of roomcast/protocol/socketio.hpp.

#include <roomcast/protocol/socketio.hpp>
#include <roomcast/protocol/websocket.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace roomcast::protocol::msgpack {

/// Why MessagePack bytes were rejected by `decode`.
enum class error {
    truncated = 1,         ///< the input ends inside a value, or a length claims more than remains
    trailing_bytes,        ///< bytes follow the one value
    too_deep,              ///< arrays and maps nested deeper than `decode_options::max_depth`
    unsupported_type,      ///< byte 0xc1, or an ext other than the timestamp and `undefined`
    invalid_key,           ///< a map key that is neither a string nor an integer
    invalid_utf8,          ///< a string (value or key) that is not UTF-8
    too_large,             ///< more `bin` values than `decode_options::max_attachments`, or a
                           ///< string, array or map larger than Boost.JSON holds
    ambiguous_placeholder, ///< a map reading `"_placeholder": true` next to `bin` values
};

namespace detail {
class error_category final : public boost::system::error_category {
public:
    char const* name() const noexcept override { return "roomcast.msgpack"; }
    std::string message(int ev) const override {
        switch (static_cast<error>(ev)) {
        case error::truncated:
            return "truncated MessagePack data";
        case error::trailing_bytes:
            return "trailing bytes after the MessagePack value";
        case error::too_deep:
            return "MessagePack arrays and maps nested too deeply";
        case error::unsupported_type:
            return "unsupported MessagePack type";
        case error::invalid_key:
            return "MessagePack map key is neither a string nor an integer";
        case error::invalid_utf8:
            return "MessagePack string is not valid UTF-8";
        case error::too_large:
            return "MessagePack value too large";
        case error::ambiguous_placeholder:
            return "MessagePack map looks like a placeholder for a binary value";
        }
        return "unknown MessagePack error";
    }
};
} // namespace detail

inline boost::system::error_category const& msgpack_category() noexcept {
    static detail::error_category const cat;
    return cat;
}

inline boost::system::error_code make_error_code(error e) noexcept {
    return {static_cast<int>(e), msgpack_category()};
}

} // namespace roomcast::protocol::msgpack

template<>
struct boost::system::is_error_code_enum<roomcast::protocol::msgpack::error> : std::true_type {};

namespace roomcast::protocol::msgpack {

/// Bounds `decode` applies to its input.
struct decode_options {
    std::size_t max_depth = 32;       ///< arrays and maps nested in one another
    std::size_t max_attachments = 10; ///< `bin` values (socketio::decode_limits' default)
};

namespace detail {

/// `tag`, then the low `bytes` bytes of `v`, big-endian as every MessagePack number.
inline void put(std::string& out, unsigned tag, std::uint64_t v, int bytes) {
    out += static_cast<char>(tag);
    for (int shift = 8 * (bytes - 1); shift >= 0; shift -= 8)
        out += static_cast<char>((v >> shift) & 0xFF);
}

/// The header of a value of `n` bytes or elements: `fix | n` below `fix_limit`, then the 8-
/// (when the type has one), 16- and 32-bit forms. notepack.io throws past 32 bits; so does
/// this, with std::length_error (no Socket.IO message comes near 4 GiB).
inline void put_size(std::string& out, std::size_t n, unsigned fix, std::size_t fix_limit,
                     unsigned tag8, unsigned tag16, unsigned tag32) {
    if (n < fix_limit)
        out += static_cast<char>(fix | n);
    else if (tag8 != 0 && n < 0x100)
        put(out, tag8, n, 1);
    else if (n < 0x10000)
        put(out, tag16, n, 2);
    else if (n <= 0xFFFFFFFF)
        put(out, tag32, n, 4);
    else
        throw std::length_error("roomcast: MessagePack value over 2^32 - 1 elements");
}

// notepack.io's integer forms: positive fixint and uint 8/16/32/64 for n >= 0, negative fixint
// and int 8/16/32/64 below (it never writes a negative number as uint, nor a positive as int).
inline void put_uint(std::string& out, std::uint64_t v) {
    if (v < 0x80)
        out += static_cast<char>(v);
    else if (v < 0x100)
        put(out, 0xCC, v, 1);
    else if (v < 0x10000)
        put(out, 0xCD, v, 2);
    else if (v < 0x100000000)
        put(out, 0xCE, v, 4);
    else
        put(out, 0xCF, v, 8);
}

inline void put_int(std::string& out, std::int64_t v) {
    if (v >= 0)
        return put_uint(out, static_cast<std::uint64_t>(v));
    auto const bits = static_cast<std::uint64_t>(v); // two's complement
    if (v >= -0x20)
        out += static_cast<char>(bits & 0xFF);
    else if (v >= -0x80)
        put(out, 0xD0, bits, 1);
    else if (v >= -0x8000)
        put(out, 0xD1, bits, 2);
    else if (v >= -0x80000000LL)
        put(out, 0xD2, bits, 4);
    else
        put(out, 0xD3, bits, 8);
}

/// JavaScript has one number type, so notepack.io writes a finite whole double as an integer
/// (-0 as 0) and anything else as float 64. It wraps whole numbers outside [-2^63, 2^64)
/// modulo 2^64, to bytes it reads back as another number: those are written as float 64,
/// which it reads back exactly.
inline void put_double(std::string& out, double d) {
    if (std::isfinite(d) && std::floor(d) == d) {
        if (d >= -9223372036854775808.0 && d < 9223372036854775808.0)
            return put_int(out, static_cast<std::int64_t>(d));
        if (d >= 0 && d < 18446744073709551616.0)
            return put_uint(out, static_cast<std::uint64_t>(d));
    }
    put(out, 0xCB, std::bit_cast<std::uint64_t>(d), 8);
}

inline void put_str(std::string& out, std::string_view s) {
    put_size(out, s.size(), 0xA0, 32, 0xD9, 0xDA, 0xDB);
    out += s;
}

inline void put_value(std::string& out, boost::json::value const& v,
                      std::span<std::string const> attachments) {
    switch (v.kind()) {
    case boost::json::kind::null:
        out += '\xC0';
        return;
    case boost::json::kind::bool_:
        out += v.get_bool() ? '\xC3' : '\xC2';
        return;
    case boost::json::kind::int64:
        return put_int(out, v.get_int64());
    case boost::json::kind::uint64:
        return put_uint(out, v.get_uint64());
    case boost::json::kind::double_:
        return put_double(out, v.get_double());
    case boost::json::kind::string:
        return put_str(out, v.get_string());
    case boost::json::kind::array:
        put_size(out, v.get_array().size(), 0x90, 16, 0, 0xDC, 0xDD);
        for (auto const& e : v.get_array())
            put_value(out, e, attachments);
        return;
    case boost::json::kind::object:
        if (!attachments.empty()) {
            if (auto const i = socketio::placeholder_index(v); i && *i < attachments.size()) {
                // A Node Buffer: notepack.io writes bin 8/16/32, never the fixext forms.
                put_size(out, attachments[*i].size(), 0, 0, 0xC4, 0xC5, 0xC6);
                out += attachments[*i];
                return;
            }
        }
        put_size(out, v.get_object().size(), 0x80, 16, 0, 0xDE, 0xDF);
        for (auto const& kv : v.get_object()) {
            put_str(out, kv.key());
            put_value(out, kv.value(), attachments);
        }
        return;
    }
}

} // namespace detail

/// Appends `v` as notepack.io's `encode` writes the equivalent JavaScript value: keys in the
/// object's order, numbers in the smallest integer form notepack.io picks when whole (a whole
/// double included), else float 64. When `attachments` is not empty, each placeholder
/// `{"_placeholder":true,"num":n}` with `n < attachments.size()` is written as a Node Buffer
/// holding `attachments[n]` (msgpack bin). Strings are written as they are (roomcast's JSON is
/// UTF-8). Integers beyond 2^53 are written exactly, where JavaScript would have rounded them
/// first; notepack.io reads either as the same double.
/// Throws std::length_error for a string, attachment, array or object of 2^32 or more
/// (as notepack.io does); nothing else.
inline void encode_to(std::string& out, boost::json::value const& v,
                      std::span<std::string const> attachments = {}) {
    detail::put_value(out, v, attachments);
}

/// `encode_to` into a new string.
inline std::string encode(boost::json::value const& v,
                          std::span<std::string const> attachments = {}) {
    std::string out;
    encode_to(out, v, attachments);
    return out;
}

namespace detail {

/// Appends the text JavaScript's Date.prototype.toJSON gives for time value `ms` (ECMA-262
/// §21.4.4.36 and §21.4.1.32): `YYYY-MM-DDTHH:mm:ss.sssZ`, with a signed six-digit year
/// outside 0000..9999.
inline void append_iso_date(std::string& out, std::int64_t ms) {
    constexpr std::int64_t ms_per_day = 86400000;
    auto days = ms / ms_per_day;
    auto in_day = ms % ms_per_day;
    if (in_day < 0) {
        in_day += ms_per_day;
        --days;
    }
    // Civil date from days since 1970-01-01 (H. Hinnant, "chrono-Compatible Low-Level Date
    // Algorithms", days_from_civil's inverse).
    auto const z = days + 719468;
    auto const era = (z >= 0 ? z : z - 146096) / 146097;
    auto const doe = z - era * 146097;
    auto const yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    auto const doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    auto const mp = (5 * doy + 2) / 153;
    auto const day = doy - (153 * mp + 2) / 5 + 1;
    auto const month = mp < 10 ? mp + 3 : mp - 9;
    auto const year = yoe + era * 400 + (month <= 2 ? 1 : 0);

    auto digits = [&out](std::int64_t v, int width) {
        char buf[8];
        for (int i = width - 1; i >= 0; --i, v /= 10)
            buf[i] = static_cast<char>('0' + v % 10);
        out.append(buf, static_cast<std::size_t>(width));
    };
    if (year >= 0 && year <= 9999) {
        digits(year, 4);
    } else {
        out += year < 0 ? '-' : '+';
        digits(year < 0 ? -year : year, 6);
    }
    out += '-';
    digits(month, 2);
    out += '-';
    digits(day, 2);
    out += 'T';
    digits(in_day / 3600000, 2);
    out += ':';
    digits(in_day / 60000 % 60, 2);
    out += ':';
    digits(in_day / 1000 % 60, 2);
    out += '.';
    digits(in_day % 1000, 3);
    out += 'Z';
}

/// What `new Date(t).toJSON()` gives: the date string, or null for a time value past
/// ECMAScript's ±8.64e15 ms (TimeClip, §21.4.1.31, truncates the rest toward zero).
inline boost::json::value js_date(double t) {
    if (!(std::abs(t) <= 8.64e15))
        return nullptr;
    std::string s;
    append_iso_date(s, static_cast<std::int64_t>(std::trunc(t)));
    return boost::json::string(s);
}

/// A `bin` value while decoding: a string no valid input makes (0xc1 is never UTF-8), holding
/// the index of the attachment in the order of the bytes. Once the document is complete, the
/// markers become placeholders numbered in document order: a duplicate map key may have
/// dropped a `bin` in between.
inline constexpr char bin_marker = '\xC1';

inline bool is_bin_marker(boost::json::string const& s) noexcept {
    return s.size() == 1 + sizeof(std::uint64_t) && s[0] == bin_marker;
}

class decoder {
public:
    decoder(std::string_view in, std::vector<std::string>& attachments,
            decode_options const& opt) noexcept
        : in_(in)
        , attachments_(attachments)
        , opt_(opt) {}

    error failure() const noexcept { return err_; }

    bool document(boost::json::value& out) {
        if (!value(out, 0))
            return false;
        if (pos_ != in_.size())
            return fail(error::trailing_bytes);
        if (!attachments_.empty()) {
            std::vector<std::string> numbered;
            if (!number_attachments(out, numbered))
                return fail(error::ambiguous_placeholder);
            attachments_ = std::move(numbered);
        }
        return true;
    }

private:
    bool fail(error e) noexcept {
        err_ = e;
        return false;
    }

    std::size_t remaining() const noexcept { return in_.size() - pos_; }

    /// Reads a `width`-byte big-endian unsigned number, or fails as truncated.
    bool number(int width, std::uint64_t& v) noexcept {
        if (remaining() < static_cast<std::size_t>(width))
            return fail(error::truncated);
        v = 0;
        for (int i = 0; i < width; ++i)
            v = (v << 8) | static_cast<unsigned char>(in_[pos_++]);
        return true;
    }

    /// Takes `n` bytes, `n` checked against what remains before anything is allocated.
    bool bytes(std::uint64_t n, std::string_view& s) noexcept {
        if (n > remaining())
            return fail(error::truncated);
        s = in_.substr(pos_, static_cast<std::size_t>(n));
        pos_ += static_cast<std::size_t>(n);
        return true;
    }

    bool text(std::uint64_t n, std::string_view& s) noexcept {
        if (!bytes(n, s))
            return false;
        // Node would read bad UTF-8 as U+FFFD; roomcast refuses it rather than forward text
        // that no WebSocket text frame may carry.
        if (!websocket::valid_utf8(s))
            return fail(error::invalid_utf8);
        if (s.size() > boost::json::string::max_size())
            return fail(error::too_large);
        return true;
    }

    bool value(boost::json::value& out, std::size_t depth) {
        std::uint64_t n = 0;
        if (remaining() == 0)
            return fail(error::truncated);
        auto const b = static_cast<unsigned char>(in_[pos_++]);
        if (b < 0x80) {
            out = static_cast<std::int64_t>(b);
            return true;
        }
        if (b >= 0xE0) {
            out = static_cast<std::int64_t>(static_cast<std::int8_t>(b));
            return true;
        }
        if (b < 0x90)
            return map(out, b & 0x0F, depth);
        if (b < 0xA0)
            return array(out, b & 0x0F, depth);
        if (b < 0xC0)
            return str(out, b & 0x1F);
        switch (b) {
        case 0xC0:
            out = nullptr;
            return true;
        case 0xC2:
        case 0xC3:
            out = b == 0xC3;
            return true;
        case 0xC4:
        case 0xC5:
        case 0xC6:
            return number(1 << (b - 0xC4), n) && bin(out, n);
        case 0xC7:
        case 0xC8:
        case 0xC9:
            return number(1 << (b - 0xC7), n) && ext(out, b, n);
        case 0xCA:
            if (!number(4, n))
                return false;
            out = static_cast<double>(std::bit_cast<float>(static_cast<std::uint32_t>(n)));
            return true;
        case 0xCB:
            if (!number(8, n))
                return false;
            out = std::bit_cast<double>(n);
            return true;
        case 0xCC:
        case 0xCD:
        case 0xCE:
        case 0xCF:
            if (!number(1 << (b - 0xCC), n))
                return false;
            // Integers are int64, as Boost.JSON's parser makes them; uint64 only above.
            if (n <= static_cast<std::uint64_t>(INT64_MAX))
                out = static_cast<std::int64_t>(n);
            else
                out = n;
            return true;
        case 0xD0:
            return signed_number<std::int8_t>(out);
        case 0xD1:
            return signed_number<std::int16_t>(out);
        case 0xD2:
            return signed_number<std::int32_t>(out);
        case 0xD3:
            return signed_number<std::int64_t>(out);
        case 0xD4:
        case 0xD5:
        case 0xD6:
        case 0xD7:
        case 0xD8:
            return ext(out, b, std::uint64_t(1) << (b - 0xD4));
        case 0xD9:
        case 0xDA:
        case 0xDB:
            return number(1 << (b - 0xD9), n) && str(out, n);
        case 0xDC:
        case 0xDD:
            return number(2 << (b - 0xDC), n) && array(out, n, depth);
        case 0xDE:
        case 0xDF:
            return number(2 << (b - 0xDE), n) && map(out, n, depth);
        default: // 0xC1: "never used"
            return fail(error::unsupported_type);
        }
    }

    template<class Int>
    bool signed_number(boost::json::value& out) {
        std::uint64_t n = 0;
        if (!number(sizeof(Int), n))
            return false;
        out = static_cast<std::int64_t>(static_cast<Int>(n)); // modular since C++20
        return true;
    }

    bool str(boost::json::value& out, std::uint64_t n) {
        std::string_view s;
        if (!text(n, s))
            return false;
        out.emplace_string().assign(s);
        return true;
    }

    bool bin(boost::json::value& out, std::uint64_t n) {
        std::string_view s;
        if (!bytes(n, s))
            return false;
        if (attachments_.size() >= opt_.max_attachments)
            return fail(error::too_large);
        char marker[1 + sizeof(std::uint64_t)] = {bin_marker};
        std::uint64_t const index = attachments_.size();
        std::memcpy(marker + 1, &index, sizeof index);
        attachments_.emplace_back(s);
        out.emplace_string().assign(marker, sizeof marker);
        return true;
    }

    // Every element takes at least one byte (a map entry two), so a length is checked against
    // what remains before anything is reserved: the input bounds what decoding allocates.
    bool array(boost::json::value& out, std::uint64_t n, std::size_t depth) {
        if (depth >= opt_.max_depth)
            return fail(error::too_deep);
        if (n > remaining())
            return fail(error::truncated);
        if (n > boost::json::array::max_size())
            return fail(error::too_large);
        auto& a = out.emplace_array();
        a.reserve(static_cast<std::size_t>(n));
        for (std::uint64_t i = 0; i < n; ++i)
            if (!value(a.emplace_back(nullptr), depth + 1))
                return false;
        return true;
    }

    bool map(boost::json::value& out, std::uint64_t n, std::size_t depth) {
        if (depth >= opt_.max_depth)
            return fail(error::too_deep);
        if (n > remaining() / 2)
            return fail(error::truncated);
        if (n > boost::json::object::max_size())
            return fail(error::too_large);
        auto& o = out.emplace_object();
        o.reserve(static_cast<std::size_t>(n));
        std::string number_key;
        for (std::uint64_t i = 0; i < n; ++i) {
            std::string_view k;
            if (!key(k, number_key))
                return false;
            boost::json::value v;
            if (!value(v, depth + 1))
                return false;
            // A later duplicate replaces the value and keeps the first one's place, as
            // assigning to a JavaScript object does.
            o.insert_or_assign(k, std::move(v));
        }
        return true;
    }

    /// A map key: a string as it is, an integer as its decimal text (JavaScript's object keys
    /// are strings). `buf` holds the text of an integer key.
    bool key(std::string_view& k, std::string& buf) {
        if (remaining() == 0)
            return fail(error::truncated);
        auto const b = static_cast<unsigned char>(in_[pos_]);
        std::uint64_t n = 0;
        if (b >= 0xA0 && b < 0xC0) {
            ++pos_;
            return text(b & 0x1F, k);
        }
        if (b >= 0xD9 && b <= 0xDB) {
            ++pos_;
            return number(1 << (b - 0xD9), n) && text(n, k);
        }
        if (b < 0x80 || b >= 0xE0 || (b >= 0xCC && b <= 0xD3)) {
            boost::json::value v;
            if (!value(v, 0))
                return false;
            char digits[24];
            auto const r = v.is_int64()
                               ? std::to_chars(digits, digits + sizeof digits, v.get_int64())
                               : std::to_chars(digits, digits + sizeof digits, v.get_uint64());
            buf.assign(digits, r.ptr);
            k = buf;
            return true;
        }
        return fail(error::invalid_key);
    }

    /// notepack.io's two ext types: its `undefined` (fixext 1, type 0, data 0), read as null,
    /// and the timestamp (type -1, §"Timestamp extension type"), read as the JSON of the Date
    /// notepack.io makes of it.
    bool ext(boost::json::value& out, unsigned char tag, std::uint64_t n) {
        std::uint64_t type = 0;
        std::string_view data;
        if (!number(1, type) || !bytes(n, data))
            return false;
        auto const u = [&data](std::size_t at) {
            std::uint32_t v = 0;
            for (std::size_t i = at; i < at + 4; ++i)
                v = (v << 8) | static_cast<unsigned char>(data[i]);
            return v;
        };
        if (tag == 0xD4 && type == 0 && data[0] == 0) {
            out = nullptr;
            return true;
        }
        if (type != 0xFF)
            return fail(error::unsupported_type);
        // The time values computed as notepack.io computes them, in doubles (whole seconds
        // times 1e3 are exact in Date's range, so contraction into an FMA changes nothing).
        if (tag == 0xD6) {
            out = js_date(static_cast<double>(u(0)) * 1e3);
            return true;
        }
        if (tag == 0xD7) {
            auto const hi = u(0);
            double const s = static_cast<double>(hi & 3) * 4294967296.0 + u(4);
            out = js_date(s * 1e3 + static_cast<double>(hi >> 2) / 1e6);
            return true;
        }
        if (tag == 0xC7 && n == 12) {
            auto const hi = static_cast<std::int32_t>(u(4));
            double const s = static_cast<double>(hi) * 4294967296.0 + u(8);
            out = js_date(s * 1e3 + static_cast<double>(u(0)) / 1e6);
            return true;
        }
        return fail(error::unsupported_type);
    }

    /// Turns the bin markers into placeholders numbered in document order (depth first,
    /// arrays in order, maps in key order: as socket.io-parser numbers attachments), moving
    /// each attachment to its number. False if a map of the input claims to be a placeholder
    /// (`"_placeholder": true`): next to real ones, nothing would tell them apart, and encoding
    /// would turn it into a copy of an attachment. (socket.io-parser takes every such object of
    /// a binary packet for a placeholder; socketio::decode refuses them, as here.) Depth is
    /// bounded by the decoding.
    bool number_attachments(boost::json::value& v, std::vector<std::string>& numbered) {
        if (auto* s = v.if_string()) {
            if (is_bin_marker(*s)) {
                std::uint64_t index = 0;
                std::memcpy(&index, s->data() + 1, sizeof index);
                numbered.push_back(std::move(attachments_[index]));
                v = socketio::make_placeholder(numbered.size() - 1);
            }
        } else if (auto* a = v.if_array()) {
            for (auto& e : *a)
                if (!number_attachments(e, numbered))
                    return false;
        } else if (auto* o = v.if_object()) {
            if (socketio::detail::claims_placeholder(v))
                return false;
            for (auto& kv : *o)
                if (!number_attachments(kv.value(), numbered))
                    return false;
        }
        return true;
    }

    std::string_view in_;
    std::size_t pos_ = 0;
    std::vector<std::string>& attachments_;
    decode_options const& opt_;
    error err_ = error::truncated;
};

} // namespace detail

/// Decodes exactly one MessagePack value filling all of `bytes`, as notepack.io's `decode`
/// reads it, into JSON: integers as int64 (uint64 above INT64_MAX), float 32 and 64 as double,
/// strings as they are (they must be UTF-8), map keys as strings (integer keys as their decimal
/// text; a later duplicate wins), notepack.io's `undefined` as null and a timestamp as the
/// string Date.prototype.toJSON gives (null out of Date's range). Each `bin` is moved into
/// `attachments` (which is cleared first) and replaced by `{"_placeholder":true,"num":i}`, `i`
/// in document order. A map that reads `"_placeholder": true` is kept as a map when there is
/// no `bin`, and refused next to one (`ambiguous_placeholder`): it could not be told apart.
/// Never throws on any input (but std::bad_alloc); on error, `attachments` is left empty.
/// Decoding allocates a small multiple of the input's size: lengths are checked first.
inline boost::system::result<boost::json::value> decode(std::string_view bytes,
                                                        std::vector<std::string>& attachments,
                                                        decode_options const& opt = {}) {
    attachments.clear();
    boost::json::value v;
    detail::decoder d(bytes, attachments, opt);
    if (!d.document(v)) {
        attachments.clear();
        return d.failure();
    }
    return v;
}

} // namespace roomcast::protocol::msgpack

#endif
