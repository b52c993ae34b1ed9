// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
//
// Fuzz target: the reader of client WebSocket frames (roomcast/protocol/websocket.hpp,
// frame_reader), against a plain model of RFC 6455 §5 written here for the purpose: frames
// parsed byte by byte, unmasked byte by byte, UTF-8 checked code point by code point.
//
// The first input byte picks the largest message (low three bits) and how the rest of the
// input is cut into reads (the other bits); the rest is what the client sent. The reader runs
// twice, on all of it at once and read by read as the transport feeds it (the start of an
// unfinished frame kept for the next read), and both runs must report what the model reports:
// the same messages and control frames in the same order, then the same close code.

#include "check.hpp"

#include <roomcast/protocol/websocket.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace wsp = roomcast::protocol::websocket;

namespace {

constexpr std::size_t max_messages[] = {0, 1, 5, 125, 126, 1024, 65535, 1u << 20};

/// What a reader reported: messages, control frames, and how it ended.
struct transcript {
    std::vector<std::string> events;
    std::uint16_t error = 0;
    std::size_t consumed = 0;
    bool stopped = false; // a close frame arrived: the connection stops reading

    friend bool operator==(transcript const&, transcript const&) = default;
};

std::string message_event(std::string_view data, bool binary) {
    return (binary ? "B" : "T") + std::string(data);
}

std::string control_event(wsp::opcode op, std::string_view payload) {
    return "C" + std::to_string(static_cast<int>(op)) + ":" + std::string(payload);
}

/// UTF-8 as RFC 3629 defines it, one code point at a time.
bool utf8_model(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        auto const c = static_cast<unsigned char>(s[i]);
        std::size_t n;
        std::uint32_t cp;
        if (c < 0x80) {
            ++i;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 2, cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 3, cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 4, cp = c & 0x07;
        } else {
            return false;
        }
        if (s.size() - i < n)
            return false;
        for (std::size_t k = 1; k < n; ++k) {
            auto const cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        static constexpr std::uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < least[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n;
    }
    return true;
}

/// RFC 6455 §5 read plainly from an unchanging copy of the input, with the reader's
/// documented choices: a frame over the limit is refused from its header, a close frame stops
/// reading (as it stops the transport).
transcript model(std::string_view in, std::size_t max_message) {
    transcript t;
    std::optional<std::string> fragments; // a message begun and not finished
    bool fragments_binary = false;
    std::size_t at = 0;
    auto const byte = [&](std::size_t i) { return static_cast<unsigned char>(in[i]); };
    auto const fail = [&](std::uint16_t code) {
        t.error = code;
        return t;
    };
    for (;;) {
        if (in.size() - at < 2)
            return t;
        bool const fin = byte(at) >> 7;
        unsigned const rsv = (byte(at) >> 4) & 7;
        unsigned const op = byte(at) & 0xF;
        bool const masked = byte(at + 1) >> 7;
        std::uint64_t len = byte(at + 1) & 0x7F;
        bool const control = op >= 8;
        bool const known = op <= 2 || (op >= 8 && op <= 10);
        if (rsv != 0 || !masked || !known)
            return fail(wsp::close_code::protocol_error);
        if (control && (!fin || len > 125))
            return fail(wsp::close_code::protocol_error);
        std::size_t header = 2;
        if (len == 126 || len == 127) {
            std::size_t const bytes = len == 126 ? 2 : 8;
            if (in.size() - at < 2 + bytes)
                return t;
            len = 0;
            for (std::size_t k = 0; k < bytes; ++k)
                len = len * 256 + byte(at + 2 + k);
            // The shortest form only, and a 64-bit length has its top bit clear (§5.2).
            bool const shortest = bytes == 2 ? len >= 126 : len > 0xFFFF;
            if (!shortest || len >= (std::uint64_t(1) << 63))
                return fail(wsp::close_code::protocol_error);
            header += bytes;
        }
        if (!control) {
            std::uint64_t const before = op == 0 && fragments ? fragments->size() : 0;
            if (before + len > max_message)
                return fail(wsp::close_code::too_big);
        }
        if (in.size() - at < header + 4 || in.size() - at - header - 4 < len)
            return t;
        std::string payload;
        for (std::uint64_t k = 0; k < len; ++k)
            payload += static_cast<char>(byte(at + header + 4 + k) ^ byte(at + header + k % 4));
        at += header + 4 + len;
        t.consumed = at;

        if (control) {
            if (op == 8 && !payload.empty()) {
                if (payload.size() == 1)
                    return fail(wsp::close_code::protocol_error);
                unsigned const code = static_cast<unsigned char>(payload[0]) << 8 |
                                      static_cast<unsigned char>(payload[1]);
                // §7.4.1 and IANA's registry (1012 to 1014); 1004 to 1006 and 1015 are never
                // sent on the wire.
                bool const valid = (code >= 1000 && code <= 1003) ||
                                   (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
                if (!valid)
                    return fail(wsp::close_code::protocol_error);
                if (!utf8_model(std::string_view(payload).substr(2)))
                    return fail(wsp::close_code::invalid_payload);
            }
            t.events.push_back(control_event(static_cast<wsp::opcode>(op), payload));
            if (op == 8) {
                t.stopped = true;
                return t;
            }
            continue;
        }
        bool binary;
        if (op == 0) {
            if (!fragments)
                return fail(wsp::close_code::protocol_error);
            *fragments += payload;
            if (!fin)
                continue;
            payload = std::move(*fragments);
            fragments.reset();
            binary = fragments_binary;
        } else {
            if (fragments)
                return fail(wsp::close_code::protocol_error);
            binary = op == 2;
            if (!fin) {
                fragments = std::move(payload);
                fragments_binary = binary;
                continue;
            }
        }
        if (!binary && !utf8_model(payload))
            return fail(wsp::close_code::invalid_payload);
        t.events.push_back(message_event(payload, binary));
    }
}

/// Runs `reader` on `buf`, adding to `t`. True if reading goes on.
bool read_into(wsp::frame_reader& reader, std::span<char> buf, std::size_t max_message,
               transcript& t) {
    auto const r = reader.read(
        buf,
        [&](std::string_view data, bool binary) {
            ROOMCAST_FUZZ_CHECK(data.size() <= max_message);
            ROOMCAST_FUZZ_CHECK(binary || wsp::valid_utf8(data));
            t.events.push_back(message_event(data, binary));
            return true;
        },
        [&](wsp::opcode op, std::string_view payload) {
            ROOMCAST_FUZZ_CHECK(payload.size() <= 125);
            ROOMCAST_FUZZ_CHECK(op == wsp::opcode::ping || op == wsp::opcode::pong ||
                                op == wsp::opcode::close);
            t.events.push_back(control_event(op, payload));
            if (op == wsp::opcode::close)
                t.stopped = true;
            return op != wsp::opcode::close;
        });
    ROOMCAST_FUZZ_CHECK(r.consumed <= buf.size());
    t.consumed += r.consumed;
    t.error = r.error;
    return !r.error && !t.stopped;
}

/// The whole input in one read.
transcript at_once(std::string_view in, std::size_t max_message) {
    std::string buf(in);
    wsp::frame_reader reader(max_message);
    transcript t;
    read_into(reader, std::span<char>(buf), max_message, t);
    return t;
}

/// The input in reads of varying sizes, with the transport's handling of what is left over.
transcript in_reads(std::string_view in, std::size_t max_message, unsigned pattern) {
    wsp::frame_reader reader(max_message);
    transcript t;
    std::string partial;
    std::size_t at = 0;
    for (unsigned turn = 0; at < in.size(); ++turn) {
        std::size_t const n =
            std::min<std::size_t>(in.size() - at, 1 + (pattern * (turn + 3)) % 23);
        std::string fresh(in.substr(at, n));
        at += n;
        bool const joined = !partial.empty();
        if (joined)
            partial += fresh;
        std::span<char> const bytes = joined ? std::span<char>(partial) : std::span<char>(fresh);
        auto const before = t.consumed;
        if (!read_into(reader, bytes, max_message, t))
            return t;
        auto const used = t.consumed - before;
        if (joined)
            partial.erase(0, used);
        else
            partial.assign(fresh, used);
    }
    return t;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    if (size < 1)
        return 0;
    std::size_t const max_message = max_messages[data[0] & 7];
    unsigned const pattern = data[0] >> 3;
    auto const in = roomcast::fuzz::as_text(data + 1, size - 1);

    // The fast UTF-8 check agrees with the plain one, on any bytes.
    ROOMCAST_FUZZ_CHECK(wsp::valid_utf8(in) == utf8_model(in));

    auto const expected = model(in, max_message);
    auto const one = at_once(in, max_message);
    ROOMCAST_FUZZ_CHECK(one == expected);
    auto const many = in_reads(in, max_message, pattern);
    ROOMCAST_FUZZ_CHECK(many == expected);

    // Never more bytes out than came in.
    std::size_t delivered = 0;
    for (auto const& e : one.events)
        if (e.front() != 'C')
            delivered += e.size() - 1;
    ROOMCAST_FUZZ_CHECK(delivered <= in.size() && one.consumed <= in.size());
    return 0;
}
