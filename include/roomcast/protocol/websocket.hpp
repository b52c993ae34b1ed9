// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_PROTOCOL_WEBSOCKET_HPP
#define ROOMCAST_PROTOCOL_WEBSOCKET_HPP

// The WebSocket framing of an established connection, server side: pure functions and a
// reader with no I/O. The transport writes every frame itself (server frames are unmasked, so
// the payload bytes of one broadcast serve every recipient) and reads client frames through
// `frame_reader`, which holds no buffer between messages unless one arrives in fragments.
// Spec: RFC 6455 §5 (framing), §5.5 (control frames), §7.4 (close codes), §8.1 (UTF-8).

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace roomcast::protocol::websocket {

/// Frame opcodes (RFC 6455 §5.2).
enum class opcode : std::uint8_t {
    continuation = 0x0,
    text = 0x1,
    binary = 0x2,
    close = 0x8,
    ping = 0x9,
    pong = 0xA,
};

/// The close codes the server sends (RFC 6455 §7.4.1).
namespace close_code {
inline constexpr std::uint16_t normal = 1000;
inline constexpr std::uint16_t protocol_error = 1002;
inline constexpr std::uint16_t invalid_payload = 1007; ///< text that is not UTF-8
inline constexpr std::uint16_t too_big = 1009;
} // namespace close_code

/// The largest frame header: 2 bytes, a 64-bit length, a 4-byte mask.
inline constexpr std::size_t max_header_size = 14;

/// Appends the header of an unmasked frame with FIN set (§5.2): what a server sends.
inline void append_header(std::string& out, opcode op, std::size_t payload_size) {
    std::array<char, 10> h{};
    std::size_t n = 2;
    h[0] = static_cast<char>(0x80 | static_cast<std::uint8_t>(op));
    if (payload_size < 126) {
        h[1] = static_cast<char>(payload_size);
    } else if (payload_size <= 0xFFFF) {
        h[1] = 126;
        h[2] = static_cast<char>(payload_size >> 8);
        h[3] = static_cast<char>(payload_size);
        n = 4;
    } else {
        h[1] = 127;
        for (int i = 0; i < 8; ++i)
            h[2 + i] = static_cast<char>(static_cast<std::uint64_t>(payload_size) >> (56 - 8 * i));
        n = 10;
    }
    out.append(h.data(), n);
}

/// Appends a whole unmasked frame.
inline void append_frame(std::string& out, opcode op, std::string_view payload) {
    append_header(out, op, payload.size());
    out += payload;
}

/// The payload of a close frame carrying `code` (§5.5.1).
inline std::string close_payload(std::uint16_t code) {
    return {static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
}

/// Whether `s` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing past
/// U+10FFFF), as §8.1 requires of text messages.
inline bool valid_utf8(std::string_view s) noexcept {
    auto const* p = reinterpret_cast<unsigned char const*>(s.data());
    auto const* const end = p + s.size();
    while (p != end) {
        // ASCII, eight bytes at a time: the common case for JSON.
        while (end - p >= 8) {
            std::uint64_t w;
            std::memcpy(&w, p, 8);
            if (w & 0x8080808080808080ull)
                break;
            p += 8;
        }
        if (p == end)
            break;
        unsigned const c = *p;
        if (c < 0x80) {
            ++p;
            continue;
        }
        // The second byte's range depends on the first (RFC 3629 §4, "UTF8-2" to "UTF8-4").
        std::size_t n;
        unsigned lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 3;
            if (c == 0xE0)
                lo = 0xA0;
            else if (c == 0xED)
                hi = 0x9F; // no surrogates
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 4;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F; // nothing past U+10FFFF
        } else {
            return false;
        }
        if (static_cast<std::size_t>(end - p) < n || p[1] < lo || p[1] > hi)
            return false;
        for (std::size_t i = 2; i < n; ++i)
            if ((p[i] & 0xC0) != 0x80)
                return false;
        p += n;
    }
    return true;
}

/// XORs `data` with the 4-byte masking key, starting at key offset 0 (§5.3).
inline void unmask(std::span<char> data, std::array<unsigned char, 4> key) noexcept {
    std::uint64_t k8;
    unsigned char k[8];
    for (int i = 0; i < 8; ++i)
        k[i] = key[static_cast<std::size_t>(i % 4)];
    std::memcpy(&k8, k, 8);
    auto* p = data.data();
    auto n = data.size();
    for (; n >= 8; p += 8, n -= 8) {
        std::uint64_t w;
        std::memcpy(&w, p, 8);
        w ^= k8;
        std::memcpy(p, &w, 8);
    }
    for (std::size_t i = 0; i < n; ++i)
        p[i] = static_cast<char>(static_cast<unsigned char>(p[i]) ^ k[i]);
}

/// Whether a close frame's code may be sent by a peer (§7.4.1, §7.4.2, and IANA's registry,
/// which adds 1012 to 1014).
inline bool valid_close_code(std::uint16_t code) noexcept {
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

/// What frame_reader::read did with its input.
struct read_result {
    std::size_t consumed = 0; ///< bytes of whole frames read; the rest starts an unfinished one
    std::uint16_t error = 0;  ///< a close code when the input broke the protocol, else 0
};

/// Reads the frames a client sends (§5: masked, FIN/continuation, control frames between the
/// fragments of a message), message by message. Stateless between messages: a message that
/// arrives in one frame is handed up as a view of the caller's buffer, unmasked in place.
class frame_reader {
public:
    /// `max_message`: the largest message accepted (its frames together); past it: 1009.
    explicit frame_reader(std::size_t max_message) noexcept
        : max_(max_message) {}

    /// Reads the whole frames at the start of `buf`, unmasking them in place, and calls
    /// `on_message(std::string_view data, bool binary)` for each complete data message and
    /// `on_control(opcode, std::string_view payload)` for each ping, pong and well-formed
    /// close. Both return false to stop reading (the connection closed). The views are
    /// valid during the call only. Stops at the first protocol error, with its close code.
    template<class OnMessage, class OnControl>
    read_result read(std::span<char> buf, OnMessage&& on_message, OnControl&& on_control) {
        read_result r;
        for (;;) {
            auto const rest = buf.subspan(r.consumed);
            if (rest.size() < 2)
                return r;
            auto const b0 = static_cast<unsigned char>(rest[0]);
            auto const b1 = static_cast<unsigned char>(rest[1]);
            bool const fin = b0 & 0x80;
            auto const op = static_cast<opcode>(b0 & 0x0F);
            bool const control = b0 & 0x08;
            // No extension is negotiated, so the RSV bits are zero; clients always mask.
            if ((b0 & 0x70) || !(b1 & 0x80))
                return fail(r, close_code::protocol_error);
            if (!known(op) || (control && (!fin || (b1 & 0x7F) > 125)))
                return fail(r, close_code::protocol_error);
            std::size_t header = 2;
            std::uint64_t len = b1 & 0x7F;
            if (len == 126) {
                if (rest.size() < 4)
                    return r;
                len = (std::uint64_t{static_cast<unsigned char>(rest[2])} << 8) |
                      static_cast<unsigned char>(rest[3]);
                header = 4;
                if (len < 126)
                    return fail(r, close_code::protocol_error); // not the shortest form
            } else if (len == 127) {
                if (rest.size() < 10)
                    return r;
                len = 0;
                for (int i = 0; i < 8; ++i)
                    len = (len << 8) | static_cast<unsigned char>(rest[2 + i]);
                header = 10;
                if (len >> 63 || len <= 0xFFFF)
                    return fail(r, close_code::protocol_error);
            }
            // Refused as soon as the header shows it, before its bytes are buffered.
            if (!control &&
                len > max_ - (op == opcode::continuation && fragments_ ? fragments_->size() : 0))
                return fail(r, close_code::too_big);
            if (rest.size() < header + 4)
                return r;
            std::array<unsigned char, 4> key;
            std::memcpy(key.data(), rest.data() + header, 4);
            header += 4;
            if (rest.size() - header < len)
                return r;
            auto payload = rest.subspan(header, static_cast<std::size_t>(len));
            unmask(payload, key);
            r.consumed += header + payload.size();
            std::string_view const bytes(payload.data(), payload.size());

            if (control) {
                if (op == opcode::close) {
                    if (auto const e = check_close(bytes))
                        return fail(r, e);
                }
                if (!on_control(op, bytes))
                    return r;
                continue;
            }
            if (op == opcode::continuation) {
                if (!fragments_)
                    return fail(r, close_code::protocol_error); // nothing to continue
                *fragments_ += bytes;
                if (!fin)
                    continue;
                auto const whole = std::move(fragments_);
                if (!deliver(*whole, binary_, on_message, r))
                    return r;
                continue;
            }
            if (fragments_)
                return fail(r, close_code::protocol_error); // a new message inside another
            binary_ = op == opcode::binary;
            if (!fin) {
                fragments_ = std::make_unique<std::string>(bytes);
                continue;
            }
            if (!deliver(bytes, binary_, on_message, r))
                return r;
        }
    }

private:
    static bool known(opcode op) noexcept {
        switch (op) {
        case opcode::continuation:
        case opcode::text:
        case opcode::binary:
        case opcode::close:
        case opcode::ping:
        case opcode::pong:
            return true;
        }
        return false;
    }

    /// A close frame's payload: empty, or a valid code and a UTF-8 reason (§5.5.1, §7.4).
    static std::uint16_t check_close(std::string_view p) noexcept {
        if (p.empty())
            return 0;
        if (p.size() == 1)
            return close_code::protocol_error;
        auto const code = static_cast<std::uint16_t>((static_cast<unsigned char>(p[0]) << 8) |
                                                     static_cast<unsigned char>(p[1]));
        if (!valid_close_code(code))
            return close_code::protocol_error;
        return valid_utf8(p.substr(2)) ? 0 : close_code::invalid_payload;
    }

    template<class OnMessage>
    static bool deliver(std::string_view data, bool binary, OnMessage& on_message, read_result& r) {
        if (!binary && !valid_utf8(data)) {
            r.error = close_code::invalid_payload;
            return false;
        }
        return on_message(data, binary);
    }

    static read_result fail(read_result r, std::uint16_t code) noexcept {
        r.error = code;
        return r;
    }

    std::size_t max_;
    // The message being assembled from fragments, while there is one: a pointer, as most
    // connections never fragment and an idle one should not carry an empty string.
    std::unique_ptr<std::string> fragments_;
    bool binary_ = false;
};

} // namespace roomcast::protocol::websocket

#endif
