// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_PROTOCOL_ENGINEIO_HPP
#define ROOMCAST_PROTOCOL_ENGINEIO_HPP

// Engine.IO protocol v4 packet codec: pure functions, no I/O.
// Spec: https://socket.io/docs/v4/engine-io-protocol/ (§"Packet encoding", §"Payload").

#include <roomcast/protocol/error.hpp>
#include <roomcast/protocol/json.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace roomcast::protocol::engineio {

/// Engine.IO v4 packet types (§"Packet encoding"): the digit on the wire is the value.
enum class packet_type : std::uint8_t { open, close, ping, pong, message, upgrade, noop };

/// One Engine.IO packet. `binary` marks a message whose data is bytes, not text.
struct packet {
    packet_type type = packet_type::message;
    std::string data;
    bool binary = false;

    friend bool operator==(packet const&, packet const&) = default;
};

/// The record separator that joins packets in a long-polling payload (§"Payload").
inline constexpr char record_separator = '\x1e';

/// A packet that refers to the text it was decoded from, valid as long as that text is.
struct packet_view {
    packet_type type = packet_type::message;
    std::string_view data;
    bool binary = false;
};

/// Decodes a text WebSocket frame (or one item of a polling payload that is not base64)
/// without copying its data.
inline result<packet_view> decode_view(std::string_view text) {
    if (text.empty())
        return error::empty_packet;
    auto const t = text[0];
    if (t < '0' || t > '6')
        return error::unknown_packet_type;
    return packet_view{static_cast<packet_type>(t - '0'), text.substr(1), false};
}

/// Decodes a text WebSocket frame (or one item of a polling payload that is not base64).
inline result<packet> decode(std::string_view text) {
    auto const v = decode_view(text);
    if (!v)
        return v.error();
    return packet{v->type, std::string(v->data), false};
}

/// A binary WebSocket frame is always a message carrying bytes (§"Packet encoding").
inline packet decode_binary(std::string_view bytes) {
    return packet{packet_type::message, std::string(bytes), true};
}

/// Appends the text form of `p` (type digit + data). Binary data is written as is: over
/// WebSocket it is the whole frame; polling payloads use encode_payload instead.
inline void encode_to(std::string& out, packet const& p) {
    if (p.binary) {
        out += p.data;
        return;
    }
    out += static_cast<char>('0' + static_cast<int>(p.type));
    out += p.data;
}

inline std::string encode(packet const& p) {
    std::string out;
    encode_to(out, p);
    return out;
}

namespace detail {
inline constexpr char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

inline int b64_value(char c) noexcept {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}
} // namespace detail

/// Standard base64 with padding, as Engine.IO's `b` polling items use.
inline void base64_encode_to(std::string& out, std::string_view in) {
    std::size_t i = 0;
    for (; i + 3 <= in.size(); i += 3) {
        auto const n = (std::uint32_t(std::uint8_t(in[i])) << 16) |
                       (std::uint32_t(std::uint8_t(in[i + 1])) << 8) | std::uint8_t(in[i + 2]);
        out += detail::b64_alphabet[(n >> 18) & 63];
        out += detail::b64_alphabet[(n >> 12) & 63];
        out += detail::b64_alphabet[(n >> 6) & 63];
        out += detail::b64_alphabet[n & 63];
    }
    if (auto const rest = in.size() - i; rest > 0) {
        std::uint32_t n = std::uint32_t(std::uint8_t(in[i])) << 16;
        if (rest == 2)
            n |= std::uint32_t(std::uint8_t(in[i + 1])) << 8;
        out += detail::b64_alphabet[(n >> 18) & 63];
        out += detail::b64_alphabet[(n >> 12) & 63];
        out += rest == 2 ? detail::b64_alphabet[(n >> 6) & 63] : '=';
        out += '=';
    }
}

/// Decodes standard base64; padding optional, anything else outside the alphabet is an error.
inline result<std::string> base64_decode(std::string_view in) {
    while (!in.empty() && in.back() == '=')
        in.remove_suffix(1);
    if (in.size() % 4 == 1)
        return error::invalid_base64;
    std::string out;
    out.reserve(in.size() * 3 / 4);
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : in) {
        int const v = detail::b64_value(c);
        if (v < 0)
            return error::invalid_base64;
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xff);
        }
    }
    return out;
}

/// Decodes a long-polling payload: packets joined by `\x1e`, binary ones as `b<base64>`.
inline result<std::vector<packet>> decode_payload(std::string_view payload) {
    std::vector<packet> out;
    for (;;) {
        auto const sep = payload.find(record_separator);
        auto const item = payload.substr(0, sep);
        if (!item.empty() && item[0] == 'b') {
            auto bytes = base64_decode(item.substr(1));
            if (!bytes)
                return bytes.error();
            out.push_back(packet{packet_type::message, std::move(*bytes), true});
        } else {
            auto p = decode(item);
            if (!p)
                return p.error();
            out.push_back(std::move(*p));
        }
        if (sep == std::string_view::npos)
            return out;
        payload.remove_prefix(sep + 1);
    }
}

/// Encodes packets as a long-polling payload.
inline std::string encode_payload(std::span<packet const> packets) {
    std::string out;
    bool first = true;
    for (auto const& p : packets) {
        if (!first)
            out += record_separator;
        first = false;
        if (p.binary) {
            out += 'b';
            base64_encode_to(out, p.data);
        } else {
            encode_to(out, p);
        }
    }
    return out;
}

/// The handshake data of the open packet (§"Handshake"), keys in the order clients see
/// from the reference server.
struct open_info {
    std::string_view sid;
    bool upgrade_to_websocket = false;
    std::uint64_t ping_interval_ms = 25000;
    std::uint64_t ping_timeout_ms = 20000;
    std::uint64_t max_payload = 1000000;
};

/// `0{"sid":...,"upgrades":[...],"pingInterval":...,"pingTimeout":...,"maxPayload":...}`
inline std::string encode_open(open_info const& o) {
    std::string out = "0{\"sid\":";
    append_string(out, o.sid);
    out += o.upgrade_to_websocket ? ",\"upgrades\":[\"websocket\"]" : ",\"upgrades\":[]";
    out += ",\"pingInterval\":" + std::to_string(o.ping_interval_ms);
    out += ",\"pingTimeout\":" + std::to_string(o.ping_timeout_ms);
    out += ",\"maxPayload\":" + std::to_string(o.max_payload);
    out += '}';
    return out;
}

} // namespace roomcast::protocol::engineio

#endif
