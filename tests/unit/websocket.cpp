// Unit tests for roomcast/protocol/websocket.hpp: server frame headers, UTF-8 validation and
// the client frame reader (RFC 6455 §5, §5.5, §7.4, §8.1).
#include "catch.hpp"
#include "ws_frames.hpp"

#include <roomcast/protocol/websocket.hpp>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace wsp = roomcast::protocol::websocket;
using roomcast::test::client_frame;
using wsp::opcode;

namespace {

/// What one read() reported, in order.
struct transcript {
    std::vector<std::string> events;
    wsp::read_result result;
};

transcript read_all(wsp::frame_reader& r, std::string bytes, int stop_after = -1) {
    transcript t;
    int seen = 0;
    auto const more = [&] { return stop_after < 0 || ++seen < stop_after; };
    t.result = r.read(
        std::span<char>(bytes),
        [&](std::string_view data, bool binary) {
            t.events.push_back(std::string(binary ? "bin:" : "text:") + std::string(data));
            return more();
        },
        [&](opcode op, std::string_view payload) {
            t.events.push_back(std::to_string(static_cast<int>(op)) + ":" + std::string(payload));
            return more();
        });
    return t;
}

} // namespace

TEST_CASE("websocket: server frame headers use the shortest length form", "[websocket]") {
    std::string out;
    wsp::append_header(out, opcode::text, 0);
    CHECK(out == std::string("\x81\x00", 2));
    out.clear();
    wsp::append_header(out, opcode::binary, 125);
    CHECK(out == std::string("\x82\x7d", 2));
    out.clear();
    wsp::append_header(out, opcode::text, 126);
    CHECK(out == std::string("\x81\x7e\x00\x7e", 4));
    out.clear();
    wsp::append_header(out, opcode::text, 65535);
    CHECK(out == std::string("\x81\x7e\xff\xff", 4));
    out.clear();
    wsp::append_header(out, opcode::text, 65536);
    CHECK(out == std::string("\x81\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10));
    out.clear();
    wsp::append_frame(out, opcode::close, wsp::close_payload(1000));
    CHECK(out == std::string("\x88\x02\x03\xe8", 4));
}

TEST_CASE("websocket: UTF-8 validation follows RFC 3629", "[websocket]") {
    CHECK(wsp::valid_utf8(""));
    CHECK(wsp::valid_utf8("plain ascii, longer than eight bytes"));
    CHECK(wsp::valid_utf8("\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
    CHECK(wsp::valid_utf8("\xf4\x8f\xbf\xbf"));       // U+10FFFF
    CHECK_FALSE(wsp::valid_utf8("\xf4\x90\x80\x80")); // past U+10FFFF
    CHECK_FALSE(wsp::valid_utf8("\xc0\xaf"));         // overlong '/'
    CHECK_FALSE(wsp::valid_utf8("\xe0\x80\xaf"));     // overlong, 3 bytes
    CHECK_FALSE(wsp::valid_utf8("\xed\xa0\x80"));     // a surrogate
    CHECK_FALSE(wsp::valid_utf8("abc\x80"));          // a lone continuation byte
    CHECK_FALSE(wsp::valid_utf8("\xe2\x82"));         // cut short
    CHECK_FALSE(wsp::valid_utf8("0123456789\xff"));   // never valid, after the ASCII fast path
}

TEST_CASE("websocket: masked frames are read, unmasked, one message each", "[websocket]") {
    wsp::frame_reader r(1000);
    std::string const long_text(300, 'x'); // the 16-bit length form
    auto t = read_all(r, client_frame(opcode::text, "42[\"a\",1]") +
                             client_frame(opcode::binary, std::string("\x00\x01\xff", 3)) +
                             client_frame(opcode::text, long_text) +
                             client_frame(opcode::text, "")); // an empty message is one too
    CHECK(t.result.error == 0);
    REQUIRE(t.events.size() == 4);
    CHECK(t.events[0] == "text:42[\"a\",1]");
    CHECK(t.events[1] == std::string("bin:\x00\x01\xff", 7));
    CHECK(t.events[2] == "text:" + long_text);
    CHECK(t.events[3] == "text:");
}

TEST_CASE("websocket: an unfinished frame is left for the next read", "[websocket]") {
    auto const whole = client_frame(opcode::text, "hello") + client_frame(opcode::text, "world");
    // Cut everywhere: what is consumed is always whole frames, and the rest completes later.
    for (std::size_t cut = 0; cut <= whole.size(); ++cut) {
        CAPTURE(cut);
        wsp::frame_reader r(1000);
        auto first = read_all(r, whole.substr(0, cut));
        REQUIRE(first.result.error == 0);
        auto second = read_all(r, whole.substr(first.result.consumed));
        REQUIRE(second.result.error == 0);
        CHECK(first.result.consumed + second.result.consumed == whole.size());
        auto all = first.events;
        all.insert(all.end(), second.events.begin(), second.events.end());
        CHECK(all == std::vector<std::string>{"text:hello", "text:world"});
    }
}

TEST_CASE("websocket: fragments make one message, with control frames between them",
          "[websocket]") {
    wsp::frame_reader r(1000);
    auto t =
        read_all(r, client_frame(opcode::text, "42[\"a", false) + client_frame(opcode::ping, "p") +
                        client_frame(opcode::continuation, "\",", false) +
                        client_frame(opcode::continuation, "2]", true));
    CHECK(t.result.error == 0);
    CHECK(t.events == std::vector<std::string>{"9:p", "text:42[\"a\",2]"});
    // The reader is ready for a new message afterwards.
    t = read_all(r, client_frame(opcode::binary, "b"));
    CHECK(t.events == std::vector<std::string>{"bin:b"});
    // An empty first fragment still starts a message: empty fragments make an empty one.
    t = read_all(r, client_frame(opcode::text, "", false) +
                        client_frame(opcode::continuation, "", true));
    CHECK(t.result.error == 0);
    CHECK(t.events == std::vector<std::string>{"text:"});
}

TEST_CASE("websocket: the callbacks stop the reader", "[websocket]") {
    wsp::frame_reader r(1000);
    auto const a = client_frame(opcode::text, "a");
    auto t = read_all(r, a + client_frame(opcode::text, "b"), 1);
    CHECK(t.events == std::vector<std::string>{"text:a"});
    CHECK(t.result.consumed == a.size());
}

TEST_CASE("websocket: protocol violations name their close code", "[websocket]") {
    struct row {
        char const* what;
        std::string bytes;
        std::uint16_t code;
    };
    auto unmasked = client_frame(opcode::text, "hi");
    unmasked[1] = static_cast<char>(unmasked[1] & 0x7F);
    auto rsv = client_frame(opcode::text, "hi");
    rsv[0] = static_cast<char>(rsv[0] | 0x40);
    auto unknown = client_frame(opcode::text, "hi");
    unknown[0] = static_cast<char>(0x83);
    row const rows[] = {
        {"unmasked", unmasked, wsp::close_code::protocol_error},
        {"reserved bit", rsv, wsp::close_code::protocol_error},
        {"unknown opcode", unknown, wsp::close_code::protocol_error},
        {"fragmented ping", client_frame(opcode::ping, "p", false),
         wsp::close_code::protocol_error},
        {"long ping", client_frame(opcode::ping, std::string(126, 'p')),
         wsp::close_code::protocol_error},
        {"continuation of nothing", client_frame(opcode::continuation, "x"),
         wsp::close_code::protocol_error},
        {"message inside a message",
         client_frame(opcode::text, "a", false) + client_frame(opcode::text, "b"),
         wsp::close_code::protocol_error},
        {"message inside a message begun empty",
         client_frame(opcode::text, "", false) + client_frame(opcode::text, "b"),
         wsp::close_code::protocol_error},
        {"16-bit form for a short length",
         client_frame(opcode::text, "hi", true, {1, 2, 3, 4}, 126),
         wsp::close_code::protocol_error},
        {"64-bit form for a short length",
         client_frame(opcode::text, "hi", true, {1, 2, 3, 4}, 127),
         wsp::close_code::protocol_error},
        {"close with one byte", client_frame(opcode::close, "x"), wsp::close_code::protocol_error},
        {"close with code 1005", client_frame(opcode::close, wsp::close_payload(1005)),
         wsp::close_code::protocol_error},
        {"close reason not UTF-8", client_frame(opcode::close, wsp::close_payload(1000) + "\xff"),
         wsp::close_code::invalid_payload},
        {"text not UTF-8", client_frame(opcode::text, "\xc0\xaf"),
         wsp::close_code::invalid_payload},
        {"fragmented text not UTF-8",
         client_frame(opcode::text, "\xe2\x82", false) + client_frame(opcode::continuation, "x"),
         wsp::close_code::invalid_payload},
        {"over the limit", client_frame(opcode::binary, std::string(101, 'b')),
         wsp::close_code::too_big},
        {"fragments over the limit",
         client_frame(opcode::binary, std::string(60, 'b'), false) +
             client_frame(opcode::continuation, std::string(41, 'b')),
         wsp::close_code::too_big},
    };
    for (auto const& r : rows) {
        CAPTURE(r.what);
        wsp::frame_reader reader(100);
        CHECK(read_all(reader, r.bytes).result.error == r.code);
    }
}

TEST_CASE("websocket: an oversized frame is refused from its header alone", "[websocket]") {
    wsp::frame_reader r(100);
    auto const f = client_frame(opcode::text, std::string(5000, 'a'));
    auto t = read_all(r, f.substr(0, 8)); // header and mask only: no payload yet
    CHECK(t.result.error == wsp::close_code::too_big);
}

TEST_CASE("websocket: valid close frames reach the caller", "[websocket]") {
    wsp::frame_reader r(100);
    auto t = read_all(r, client_frame(opcode::close, "") +
                             client_frame(opcode::close, wsp::close_payload(4000) + "bye"));
    CHECK(t.result.error == 0);
    CHECK(t.events == std::vector<std::string>{"8:", "8:" + wsp::close_payload(4000) + "bye"});
}
