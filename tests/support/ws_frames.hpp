// WebSocket frames as a client writes them (masked, RFC 6455 §5.2), for tests that must send
// what no well-behaved client library would: fragments that never end, bad UTF-8, lies.
#ifndef ROOMCAST_TESTS_WS_FRAMES_HPP
#define ROOMCAST_TESTS_WS_FRAMES_HPP

#include <roomcast/protocol/websocket.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace roomcast::test {

/// A client frame: masked with `key`, FIN as given, the shortest length form unless `len_form`
/// asks for 126 or 127.
inline std::string client_frame(protocol::websocket::opcode op, std::string_view payload,
                                bool fin = true,
                                std::array<unsigned char, 4> key = {0x12, 0x34, 0x56, 0x78},
                                int len_form = 0) {
    std::string f;
    f += static_cast<char>((fin ? 0x80 : 0) | static_cast<int>(op));
    auto const n = payload.size();
    if (len_form == 0 && n < 126) {
        f += static_cast<char>(0x80 | n);
    } else if (len_form != 127 && n <= 0xFFFF) {
        f += static_cast<char>(0x80 | 126);
        f += static_cast<char>(n >> 8);
        f += static_cast<char>(n & 0xFF);
    } else {
        f += static_cast<char>(0x80 | 127);
        for (int i = 7; i >= 0; --i)
            f += static_cast<char>((static_cast<std::uint64_t>(n) >> (8 * i)) & 0xFF);
    }
    f.append(reinterpret_cast<char const*>(key.data()), 4);
    for (std::size_t i = 0; i < n; ++i)
        f += static_cast<char>(static_cast<unsigned char>(payload[i]) ^ key[i % 4]);
    return f;
}

} // namespace roomcast::test

#endif
