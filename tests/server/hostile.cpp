// Clients that lie, stall or flood: each gets a defined answer, and the server keeps serving
// everyone else. Frames are written byte by byte where no client library would write them.
#include "catch.hpp"
#include "raw_client.hpp"
#include "raw_tcp.hpp"
#include "sio_client.hpp"
#include "test_server.hpp"
#include "ws_frames.hpp"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

using namespace roomcast::test;
using namespace std::chrono_literals;
using roomcast::protocol::websocket::opcode;

namespace {

/// The server frames in `bytes` (unmasked, RFC 6455 §5.2), as (opcode, payload).
std::vector<std::pair<int, std::string>> server_frames(std::string_view bytes) {
    std::vector<std::pair<int, std::string>> out;
    while (bytes.size() >= 2) {
        int const op = static_cast<unsigned char>(bytes[0]) & 0x0F;
        std::uint64_t n = static_cast<unsigned char>(bytes[1]) & 0x7F;
        std::size_t at = 2;
        if (n >= 126) {
            std::size_t const k = n == 126 ? 2 : 8;
            if (bytes.size() < 2 + k)
                break;
            n = 0;
            for (std::size_t i = 0; i < k; ++i)
                n = n << 8 | static_cast<unsigned char>(bytes[2 + i]);
            at += k;
        }
        if (bytes.size() < at + n)
            break;
        out.emplace_back(op, std::string(bytes.substr(at, n)));
        bytes.remove_prefix(at + n);
    }
    return out;
}

/// The code of the close frame that ends `bytes`, or 0.
unsigned close_code(std::string_view bytes) {
    auto const frames = server_frames(bytes);
    if (frames.empty() || frames.back().first != 0x8 || frames.back().second.size() < 2)
        return 0;
    auto const& p = frames.back().second;
    return static_cast<unsigned char>(p[0]) << 8 | static_cast<unsigned char>(p[1]);
}

/// A server with a `ping` event answering "pong", recording disconnect reasons.
struct pong_server {
    explicit pong_server(roomcast::options o,
                         std::function<void(roomcast::server<>&)> const& more = {})
        : srv(std::move(o), [&](roomcast::server<>& io) {
            io.on("ping", [](roomcast::socket&) { return std::string("pong"); });
            io.on_disconnect(
                [this](roomcast::socket&, std::string_view why) { reasons.add(std::string(why)); });
            if (more)
                more(io);
        }) {}

    /// Another client is served as before.
    void check_still_serving() {
        raw_client c;
        connect(c, srv.port());
        c.write(R"(421["ping"])");
        CHECK(c.read_packet() == R"(431["pong"])");
    }

    record reasons;
    test_server srv;
};

std::size_t open_descriptors() {
    std::size_t n = 0;
    for ([[maybe_unused]] auto const& e : std::filesystem::directory_iterator("/proc/self/fd"))
        ++n;
    return n;
}

} // namespace

TEST_CASE("hostile: a text frame that is not UTF-8 closes its connection with 1007") {
    pong_server s({});
    raw_tcp t(s.srv.port());
    REQUIRE(t.upgrade());
    t.write(client_frame(opcode::text, "40") + client_frame(opcode::text, "42[\"a\xff\xfe\"]"));
    auto const got = t.read_to_end(5s);
    REQUIRE(got);
    CHECK(close_code(*got) == 1007);
    REQUIRE(eventually([&] { return s.reasons.size() == 1; }));
    CHECK(s.reasons.items()[0] == "transport error"); // as in Node, where ws reports it
    s.check_still_serving();
}

TEST_CASE("hostile: a message in fragments past max_payload closes with 1009") {
    pong_server s({.transport = {.max_payload = 4096}});
    raw_tcp t(s.srv.port());
    REQUIRE(t.upgrade());
    std::string frames =
        client_frame(opcode::text, "40") + client_frame(opcode::text, "42[\"ping\",\"", false);
    for (int i = 0; i < 60; ++i) // 6,000 bytes, none of them ending the message
        frames += client_frame(opcode::continuation, std::string(100, 'x'), false);
    t.write(frames);
    auto const got = t.read_to_end(5s);
    REQUIRE(got);
    CHECK(close_code(*got) == 1009);
    s.check_still_serving();
}

TEST_CASE("hostile: a fragmented message that never ends is dropped by the heartbeat") {
    // A client inside a fragmented message cannot answer Engine.IO's pings (data frames):
    // it holds at most max_payload bytes, for at most ping_interval + ping_timeout.
    pong_server s({.transport = {.ping_interval = 100ms, .ping_timeout = 200ms}});
    raw_tcp t(s.srv.port());
    REQUIRE(t.upgrade());
    t.write(client_frame(opcode::text, "40") + client_frame(opcode::text, "42[\"ping\"", false));
    auto const start = std::chrono::steady_clock::now();
    REQUIRE(t.read_to_end(5s));
    CHECK(std::chrono::steady_clock::now() - start < 2s);
    REQUIRE(eventually([&] { return s.reasons.size() == 1; }));
    CHECK(s.reasons.items()[0] == "ping timeout");
    s.check_still_serving();
}

TEST_CASE("hostile: a request that never completes is cut at handshake_timeout") {
    pong_server s({.transport = {.handshake_timeout = 300ms}});
    SECTION("silent") {
        raw_tcp t(s.srv.port());
        auto const start = std::chrono::steady_clock::now();
        CHECK(t.read_to_end(3s) == "");
        CHECK(std::chrono::steady_clock::now() - start < 2s);
    }
    SECTION("one header byte at a time, forever (slowloris)") {
        raw_tcp t(s.srv.port());
        t.write("GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nX-Slow: ");
        auto const start = std::chrono::steady_clock::now();
        bool cut = false;
        while (!cut && std::chrono::steady_clock::now() - start < 3s) {
            std::this_thread::sleep_for(20ms);
            cut = !t.write("a");
        }
        // The deadline is for the whole request: bytes that keep coming do not extend it. (A
        // write may still succeed just after the close; the read then sees the end.)
        CHECK(t.read_to_end(3s));
        CHECK(std::chrono::steady_clock::now() - start < 2500ms);
    }
    s.check_still_serving();
}

TEST_CASE("hostile: thousands of connections opened and dropped leave nothing behind") {
    std::atomic<int> connected{0}, disconnected{0};
    test_server srv({.transport = {.max_connections = 20}}, [&](roomcast::server<>& io) {
        io.on_connection([&](roomcast::socket& s) {
            ++connected;
            s.join("all");
        });
        io.on_disconnect([&](roomcast::socket&, std::string_view) { ++disconnected; });
    });
    auto const baseline = open_descriptors();
    int upgraded = 0;
    int in_room = 0;
    for (int i = 0; i < 3000; ++i) {
        raw_tcp t(srv.port());
        switch (i % 4) {
        case 0: // connects, then goes
            break;
        case 1: // half a request, then a reset
            t.write("GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost");
            break;
        case 2: // a session, then a reset
            upgraded += t.upgrade();
            break;
        case 3: // a socket in a room, then a reset: once it is in, or while it gets in
            if (t.upgrade()) {
                ++upgraded;
                t.write(client_frame(opcode::text, "40"));
                if (i % 8 == 3)
                    in_room += t.read_until("40{\"sid\":", 5s);
            }
            break;
        }
        t.abort();
    }
    // Never more than one at a time: all of them were let in.
    CHECK(upgraded == 1500);
    CHECK(in_room == 375);
    // Of the others, those whose reset came before the server read their CONNECT never had
    // a socket; each socket that had one is disconnected.
    CHECK(eventually([&] { return connected.load() >= 375 && connected == disconnected; }, 10s));
    CHECK(eventually([&] { return open_descriptors() <= baseline + 4; }, 10s));
    // Every session's place came back: max_connections of them open, and no more.
    std::vector<std::unique_ptr<raw_client>> held;
    for (int i = 0; i < 20; ++i) {
        held.push_back(std::make_unique<raw_client>());
        CHECK(!held.back()->connect(srv.port()));
    }
    raw_client extra;
    CHECK(extra.connect(srv.port()));
}

TEST_CASE("hostile: acknowledgement ids reused, unknown, repeated or too large") {
    std::atomic<int> answers{0};
    pong_server s({}, [&](roomcast::server<>& io) {
        io.on("ask", [&](roomcast::socket& sock) {
            sock.emit_with_ack("question", [&](boost::system::error_code ec, roomcast::arguments) {
                if (!ec)
                    ++answers;
            });
        });
    });
    raw_client c;
    connect(c, s.srv.port());
    // One id used twice by the client: each event is answered with it, as Socket.IO does.
    c.write(R"(427["ping"])");
    c.write(R"(427["ping"])");
    CHECK(c.read_packet() == R"(437["pong"])");
    CHECK(c.read_packet() == R"(437["pong"])");
    // An answer to a question never asked is ignored.
    c.write(R"(43123456[1])");
    // The answer to the server's question, sent twice, completes it once.
    c.write(R"(42["ask"])");
    auto const q = c.read_packet().value_or("");
    REQUIRE(q.substr(0, 2) == "42");
    auto const id = q.substr(2, q.find('[') - 2);
    c.write("43" + id + "[\"yes\"]");
    c.write("43" + id + "[\"again\"]");
    c.write(R"(428["ping"])");
    CHECK(c.read_packet() == R"(438["pong"])");
    CHECK(answers == 1);
    // An id past 2^53 - 1 does not parse: the connection is closed.
    c.write(R"(429007199254740992["ping"])");
    CHECK_FALSE(c.read_packet(2s));
    REQUIRE(eventually([&] { return s.reasons.size() == 1; }));
    CHECK(s.reasons.items()[0] == "parse error");
    s.check_still_serving();
}

TEST_CASE("hostile: binary attachment counts that lie close the connection") {
    pong_server s({.max_attachments = 3});
    SECTION("more than max_attachments announced") {
        raw_client c;
        connect(c, s.srv.port());
        c.write(R"(454-["ping",{"_placeholder":true,"num":0}])");
        CHECK_FALSE(c.read_packet(2s));
    }
    SECTION("fewer sent than announced, then a text packet") {
        raw_client c;
        connect(c, s.srv.port());
        c.write(R"(452-["ping",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])");
        c.write("\x01\x02", true);
        c.write(R"(421["ping"])");
        CHECK_FALSE(c.read_packet(2s));
    }
    REQUIRE(eventually([&] { return s.reasons.size() == 1; }));
    CHECK(s.reasons.items()[0] == "parse error");
    s.check_still_serving();
}

TEST_CASE("hostile: a disallowed Origin is refused before any session exists") {
    std::atomic<int> sessions{0};
    test_server srv(
        {.transport = {.max_connections = 1,
                       .allow_request =
                           [](roomcast::transport::request_info const& r) {
                               return r.header("origin") == "https://good.example";
                           }}},
        [&](roomcast::server<>& io) { io.on_connection([&](roomcast::socket&) { ++sessions; }); });
    auto const request = [](std::string const& transport, std::string const& origin) {
        return "GET /socket.io/?EIO=4&transport=" + transport +
               " HTTP/1.1\r\nHost: x\r\nOrigin: " + origin +
               "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    };
    // Were a refused request to open a session, even for a moment, the only place would go.
    for (int i = 0; i < 20; ++i) {
        auto const answer =
            http_raw(srv.port(), request(i % 2 ? "polling" : "websocket", "https://evil.example"));
        CHECK(answer.substr(0, 12) == "HTTP/1.1 403");
        CHECK(answer.find(R"({"code":4,"message":"Forbidden"})") != std::string::npos);
    }
    raw_tcp good(srv.port());
    good.write(request("websocket", "https://good.example"));
    auto const opened = good.read_to_end(500ms); // nullopt: still open, as it should be
    CHECK_FALSE(opened);
    CHECK(sessions == 0); // it joined no namespace
}

TEST_CASE("hostile: no client packet joins a room; only handlers do") {
    test_server srv({}, [&](roomcast::server<>& io) {
        io.on("relay", [&io](roomcast::socket&, std::string const& room) {
            io.to(room).emit("note", room);
            return true;
        });
    });
    raw_client c, sender;
    auto const id = connect(c, srv.port());
    connect(sender, srv.port());
    // Events named as Node's API is, and a namespace named as the room.
    c.write(R"(42["join","secret"])");
    c.write(R"(42["subscribe","secret"])");
    c.write(R"(40/secret,)");
    CHECK(read_until(c, [](auto const& p) { return p.starts_with("44/secret,"); }));
    sender.write(R"(421["relay","secret"])");
    CHECK(sender.read_packet() == "431[true]");
    sender.write(R"(422["relay",")" + id + R"("])");
    CHECK(sender.read_packet() == "432[true]");
    // What reaches `c` is the note to its own room, never the one to "secret".
    CHECK(c.read_packet() == R"(42["note",")" + id + R"("])");
    for (auto const& r : rooms_of(srv.io()))
        CHECK(r.name != "secret");
}

TEST_CASE("hostile: a header block over max_header_bytes ends the connection unanswered") {
    pong_server s({.transport = {.max_header_bytes = 1024}});
    auto const big = http_raw(s.srv.port(), "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n"
                                            "Host: x\r\nX-Big: " +
                                                std::string(4096, 'b') + "\r\n\r\n");
    CHECK(big.empty());
    auto const fine = http_raw(s.srv.port(), "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n"
                                             "Host: x\r\nX-Big: " +
                                                 std::string(512, 'b') + "\r\n\r\n");
    CHECK(fine.substr(0, 12) == "HTTP/1.1 200");
    s.check_still_serving();
}
