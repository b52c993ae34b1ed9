// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_PROTOCOL_SOCKETIO_HPP
#define ROOMCAST_PROTOCOL_SOCKETIO_HPP

// Socket.IO protocol v5 packet codec: pure functions, no I/O.
// Spec: https://socket.io/docs/v4/socket-io-protocol/ (§"Packet format"), with the
// acceptance rules of the reference parser (socket.io-parser 4.x, Decoder.isPayloadValid).

#include <roomcast/protocol/error.hpp>
#include <roomcast/protocol/json.hpp>

#include <boost/json/value.hpp>

#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace roomcast::protocol::socketio {

/// Socket.IO v5 packet types (§"Packet types"): the digit on the wire is the value.
enum class packet_type : std::uint8_t {
    connect,
    disconnect,
    event,
    ack,
    connect_error,
    binary_event,
    binary_ack,
};

/// One Socket.IO packet. `data` is null when the packet carries no payload (no packet type
/// accepts a literal `null` payload, so the two never need telling apart). Decoded EVENT
/// packets always hold a non-empty array, decoded ACK packets an array. In binary packets
/// `data` holds `{"_placeholder":true,"num":i}` objects standing for `attachments[i]`.
struct packet {
    packet_type type = packet_type::event;
    std::string nsp = "/";
    std::optional<std::uint64_t> id;
    boost::json::value data;
    std::size_t attachment_count = 0;     ///< announced by a BINARY_* header
    std::vector<std::string> attachments; ///< the binary frames, once received

    bool is_binary() const noexcept {
        return type == packet_type::binary_event || type == packet_type::binary_ack;
    }
};

/// Bounds the decoder applies to client input.
struct decode_limits {
    std::size_t max_attachments = 10; ///< attachments one BINARY_* packet may announce
    std::size_t max_namespace = 256;  ///< bytes of a namespace name
};

/// The largest ack id: JavaScript clients count ids in doubles.
inline constexpr std::uint64_t max_ack_id = (std::uint64_t(1) << 53) - 1;

namespace detail {
inline bool is_reserved_event(std::string_view name) noexcept {
    // Names the client library reserves for its own events (socket.io-parser RESERVED_EVENTS).
    return name == "connect" || name == "connect_error" || name == "disconnect" ||
           name == "disconnecting" || name == "newListener" || name == "removeListener";
}

inline bool is_payload_valid(packet_type t, boost::json::value const& v) {
    switch (t) {
    case packet_type::connect:
        return v.is_object();
    case packet_type::disconnect:
        return false; // carries no payload at all
    case packet_type::connect_error:
        return v.is_string() || v.is_object();
    case packet_type::event:
    case packet_type::binary_event: {
        auto const* a = v.if_array();
        if (!a || a->empty())
            return false;
        auto const& name = a->front();
        return name.is_number() || (name.is_string() && !is_reserved_event(name.get_string()));
    }
    case packet_type::ack:
    case packet_type::binary_ack:
        return v.is_array();
    }
    return false;
}

inline bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}
} // namespace detail

namespace detail {
/// Whether `v` is an object with `"_placeholder": true`. The reference parser takes every such
/// object of a binary packet for a placeholder and rejects the packet when its `num` names no
/// attachment; roomcast also rejects one with other keys (no client sends them).
inline bool claims_placeholder(boost::json::value const& v) {
    auto const* o = v.if_object();
    if (!o)
        return false;
    auto const* flag = o->if_contains("_placeholder");
    return flag && flag->is_bool() && flag->get_bool();
}
} // namespace detail

/// The attachment index if `v` is a placeholder object, `{"_placeholder":true,"num":i}`, with
/// `i` a whole non-negative number (`1.0` too: JSON does not tell numbers apart).
inline std::optional<std::size_t> placeholder_index(boost::json::value const& v) {
    if (!detail::claims_placeholder(v) || v.get_object().size() != 2)
        return std::nullopt;
    auto const* num = v.get_object().if_contains("num");
    if (!num)
        return std::nullopt;
    if (num->is_int64() && num->get_int64() >= 0)
        return static_cast<std::size_t>(num->get_int64());
    if (num->is_uint64())
        return static_cast<std::size_t>(num->get_uint64());
    if (num->is_double()) {
        double const d = num->get_double();
        if (d >= 0 && d < 9007199254740992.0 && std::trunc(d) == d) // below 2^53: exact
            return static_cast<std::size_t>(d);
    }
    return std::nullopt;
}

/// The placeholder object for attachment `num`.
inline boost::json::value make_placeholder(std::size_t num) {
    return boost::json::object{{"_placeholder", true}, {"num", num}};
}

namespace detail {
/// Every placeholder names an attachment the packet announced (the reference parser's
/// reconstruction fails otherwise). Depth is bounded by the JSON parser.
inline bool placeholders_valid(boost::json::value const& v, std::size_t count) {
    if (claims_placeholder(v)) {
        auto const idx = placeholder_index(v);
        return idx && *idx < count;
    }
    if (auto const* a = v.if_array()) {
        for (auto const& e : *a)
            if (!placeholders_valid(e, count))
                return false;
    } else if (auto const* o = v.if_object()) {
        for (auto const& kv : *o)
            if (!placeholders_valid(kv.value(), count))
                return false;
    }
    return true;
}
} // namespace detail

/// Decodes the text part of a packet: `<type>[<n>-][<nsp>,][<id>][<json>]`.
/// A BINARY_* packet comes back with `attachment_count` set and no attachments yet: feed the
/// following binary frames to a `binary_assembler`.
inline result<packet> decode(std::string_view s, decode_limits const& limits = {}) {
    if (s.empty())
        return error::empty_packet;
    if (s[0] < '0' || s[0] > '6')
        return error::unknown_packet_type;
    packet p;
    p.type = static_cast<packet_type>(s[0] - '0');
    std::size_t i = 1;
    if (p.is_binary()) {
        // `<count>-`: the reference parser rejects a missing dash and a count below one.
        auto const dash = s.find('-', i);
        if (dash == std::string_view::npos || dash == i)
            return error::invalid_attachments;
        std::size_t n = 0;
        for (; i < dash; ++i) {
            if (!detail::is_digit(s[i]))
                return error::invalid_attachments;
            n = n * 10 + static_cast<std::size_t>(s[i] - '0');
            if (n > limits.max_attachments)
                return error::invalid_attachments;
        }
        if (n == 0)
            return error::invalid_attachments;
        p.attachment_count = n;
        i = dash + 1;
    }
    if (i < s.size() && s[i] == '/') {
        // The reference parser reads the namespace up to a comma or the end of the packet,
        // so "40/admin" and "40/admin," name the same namespace.
        auto const comma = s.find(',', i);
        auto const end = comma == std::string_view::npos ? s.size() : comma;
        if (end - i > limits.max_namespace)
            return error::invalid_namespace;
        p.nsp.assign(s.substr(i, end - i));
        i = comma == std::string_view::npos ? s.size() : comma + 1;
    }
    if (i < s.size() && detail::is_digit(s[i])) {
        std::uint64_t id = 0;
        for (; i < s.size() && detail::is_digit(s[i]); ++i) {
            id = id * 10 + static_cast<std::uint64_t>(s[i] - '0');
            if (id > max_ack_id)
                return error::invalid_ack_id;
        }
        p.id = id;
    }
    if (i < s.size()) {
        auto v = parse_json(s.substr(i));
        if (!v)
            return v.error();
        if (!detail::is_payload_valid(p.type, *v))
            return error::invalid_payload;
        p.data = std::move(*v);
    }
    // An event names itself, so it cannot be empty; an ack without arguments has none.
    if (p.data.is_null()) {
        if (p.type == packet_type::event || p.type == packet_type::binary_event)
            return error::invalid_payload;
        if (p.type == packet_type::ack || p.type == packet_type::binary_ack)
            p.data = boost::json::array();
    }
    if (p.is_binary() && !detail::placeholders_valid(p.data, p.attachment_count))
        return error::invalid_attachments;
    return p;
}

/// Appends the text part of `p`. For BINARY_* packets `attachments.size()` is announced (or
/// `attachment_count` when no attachment is held) and the attachments follow as binary frames.
inline void encode_to(std::string& out, packet const& p) {
    out += static_cast<char>('0' + static_cast<int>(p.type));
    if (p.is_binary()) {
        auto const n = p.attachments.empty() ? p.attachment_count : p.attachments.size();
        out += std::to_string(n);
        out += '-';
    }
    if (!p.nsp.empty() && p.nsp != "/") {
        out += p.nsp;
        out += ',';
    }
    if (p.id)
        out += std::to_string(*p.id);
    if (!p.data.is_null())
        serialize_to(out, p.data);
}

inline std::string encode(packet const& p) {
    std::string out;
    encode_to(out, p);
    return out;
}

/// Collects the binary frames that follow a BINARY_* packet (§"Packet format", binary).
/// A value type: the connection owns one and feeds it frames.
class binary_assembler {
public:
    /// True while a packet waits for attachments.
    bool waiting() const noexcept { return pending_ != nullptr; }

    /// Starts collecting for `p`; a packet announcing no attachment is complete at once.
    std::optional<packet> start(packet p) {
        if (p.attachment_count == 0)
            return p;
        pending_ = std::make_unique<packet>(std::move(p));
        return std::nullopt;
    }

    /// Adds one binary frame. Returns the packet once its last attachment arrived.
    result<std::optional<packet>> add(std::string_view bytes) {
        if (!pending_)
            return error::unexpected_attachment;
        pending_->attachments.emplace_back(bytes);
        if (pending_->attachments.size() < pending_->attachment_count)
            return std::optional<packet>{};
        std::optional<packet> done = std::move(*pending_);
        pending_.reset();
        return done;
    }

    void reset() noexcept { pending_.reset(); }

private:
    std::unique_ptr<packet> pending_; // on the heap: most connections never send binary
};

} // namespace roomcast::protocol::socketio

#endif
