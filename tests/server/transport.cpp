// Engine.IO over WebSocket, seen from the wire: handshake, refusals, heartbeat, limits, and the
// batched writes (through io_uring where the kernel has it) and what happens when it fails.
#include "catch.hpp"
#include "raw_client.hpp"
#include "raw_tcp.hpp"
#include "test_server.hpp"
#include "ws_frames.hpp"

#include <roomcast/transport/detail/send_ring.hpp> // ROOMCAST_IO_URING: writes go through a ring

#include <boost/json/parse.hpp>

#include <sys/resource.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#if defined(ROOMCAST_IO_URING)
#include <linux/filter.h>
#include <linux/io_uring.h>
#include <linux/seccomp.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

using namespace roomcast::test;
using namespace std::chrono_literals;

namespace {
void no_handlers(roomcast::server<>&) {}

/// Completes the Socket.IO handshake on `nsp`; returns the CONNECT answer.
std::string join_namespace(raw_client& c, std::string const& nsp = "/") {
    c.write(nsp == "/" ? "40" : "40" + nsp + ",");
    return c.read_packet().value_or("");
}

/// Connects `c` on `port`, joins the main namespace, and joins a room through the server's
/// `join` handler, whose ack (true) says it is in.
void join_room(raw_client& c, std::uint16_t port) {
    REQUIRE(!c.connect(port));
    c.read();
    REQUIRE(join_namespace(c).substr(0, 2) == "40");
    c.write(R"(421["join"])");
    REQUIRE(c.read_packet() == "431[true]");
}

/// Lets this process hold at least `n` descriptors (the soft limit is often 1,024); false if
/// the hard limit is lower.
bool allow_descriptors(rlim_t n) {
    rlimit l{};
    if (::getrlimit(RLIMIT_NOFILE, &l) != 0)
        return false;
    if (l.rlim_cur != RLIM_INFINITY && l.rlim_cur < n) {
        if (l.rlim_max != RLIM_INFINITY && l.rlim_max < n)
            return false;
        l.rlim_cur = n;
        return ::setrlimit(RLIMIT_NOFILE, &l) == 0;
    }
    return true;
}

#if defined(ROOMCAST_IO_URING)
/// Makes every later io_uring_enter of this process (all of its threads) fail with EPERM, as a
/// seccomp policy that forbids it does; the rings already made stay open. False if the kernel
/// does not let it.
bool forbid_io_uring_enter() {
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_enter, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog program{static_cast<unsigned short>(std::size(filter)), filter};
    return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
           ::syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &program) ==
               0;
}

/// Whether this kernel makes an io_uring for this process.
bool io_uring_available() {
    io_uring_params p{};
    auto const fd = ::syscall(__NR_io_uring_setup, 1, &p);
    if (fd < 0)
        return false;
    ::close(static_cast<int>(fd));
    return true;
}

/// Runs the test case named `name` of this test program in a process of its own (for what
/// cannot be undone, such as a seccomp filter); returns its exit status (the number of
/// assertions that failed, or 2 if no test case of that name ran), or -1 if it did not exit
/// normally. `name` is a test spec: it must not hold a comma, which would split it in two.
int run_test_in_own_process(char const* name) {
    char self[] = "/proc/self/exe";
    char warn[] = "--warn";
    char no_tests[] = "NoTests";
    std::string test(name);
    char* argv[] = {self, warn, no_tests, test.data(), nullptr};
    pid_t pid = 0;
    if (::posix_spawn(&pid, self, nullptr, nullptr, argv, environ) != 0)
        return -1;
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}
#endif
} // namespace

TEST_CASE("the open packet has exactly Engine.IO's keys and an unguessable sid") {
    test_server srv(
        {.transport = {.ping_interval = 1234ms, .ping_timeout = 567ms, .max_payload = 4321}},
        no_handlers);
    raw_client a, b;
    REQUIRE(!a.connect(srv.port()));
    REQUIRE(!b.connect(srv.port()));
    auto const open_a = a.read().value_or("");
    auto const open_b = b.read().value_or("");
    REQUIRE(open_a.substr(0, 1) == "0");
    auto const v = boost::json::parse(open_a.substr(1)).as_object();
    auto const sid = std::string(v.at("sid").as_string());
    CHECK(open_a == "0{\"sid\":\"" + sid +
                        "\",\"upgrades\":[],\"pingInterval\":1234,\"pingTimeout\":567,"
                        "\"maxPayload\":4321}");
    CHECK(sid.size() == 20);
    CHECK(
        sid.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
        std::string::npos);
    CHECK(open_b.find(sid) == std::string::npos);
}

TEST_CASE("requests Engine.IO cannot serve are refused with its error answers") {
    test_server srv({}, no_handlers);
    struct refusal {
        std::string target;
        unsigned status;
        std::string body;
    };
    refusal const cases[] = {
        {"/socket.io/?EIO=3&transport=websocket", 400,
         R"({"code":5,"message":"Unsupported protocol version"})"},
        {"/socket.io/?transport=websocket", 400,
         R"({"code":5,"message":"Unsupported protocol version"})"},
        {"/socket.io/?EIO=4&transport=carrier-pigeon", 400,
         R"({"code":0,"message":"Transport unknown"})"},
        {"/socket.io/?EIO=4", 400, R"({"code":0,"message":"Transport unknown"})"},
        {"/socket.io/?EIO=4&transport=websocket&sid=abc", 400,
         R"({"code":1,"message":"Session ID unknown"})"},
        // a WebSocket transport request that is not an upgrade
        {"/socket.io/?EIO=4&transport=websocket", 400, R"({"code":3,"message":"Bad request"})"},
        {"/elsewhere", 404, "Not Found"},
    };
    for (auto const& c : cases) {
        INFO(c.target);
        auto res = http_get(srv.port(), c.target);
        REQUIRE(res);
        CHECK(res->status == c.status);
        CHECK(res->body == c.body);
    }
    raw_client bad;
    CHECK(bad.connect(srv.port(), "/socket.io/?EIO=3&transport=websocket"));
}

TEST_CASE("the server pings; a client that answers stays, one that does not is closed") {
    roomcast::test::record reasons;
    // A short interval, so many pings go by; a timeout a busy machine cannot miss.
    test_server srv({.transport = {.ping_interval = 50ms, .ping_timeout = 1s}},
                    [&](roomcast::server<>& io) {
                        io.on_disconnect([&](roomcast::socket&, std::string_view why) {
                            reasons.add(std::string(why));
                        });
                    });
    raw_client silent;
    REQUIRE(!silent.connect(srv.port()));
    silent.read();
    join_namespace(silent);

    // The silent client reads the pings but never answers: closed within interval + timeout.
    int pings = 0;
    while (silent.read(2s))
        ++pings;
    CHECK(pings >= 1);
    REQUIRE(eventually([&] { return reasons.size() == 1; }));
    CHECK(reasons.items()[0] == "ping timeout");

    // A client that answers outlives many intervals.
    raw_client good;
    REQUIRE(!good.connect(srv.port()));
    good.read();
    join_namespace(good);
    for (int i = 0; i < 8; ++i) {
        auto m = good.read(1s);
        REQUIRE(m);
        CHECK(*m == "2");
        REQUIRE(good.write("3"));
    }
    CHECK(reasons.size() == 1);
}

TEST_CASE("a frame over maxPayload closes the connection with 1009") {
    test_server srv({.transport = {.max_payload = 1000}}, no_handlers);
    raw_client c;
    REQUIRE(!c.connect(srv.port()));
    c.read();
    join_namespace(c);
    c.write("42[\"x\",\"" + std::string(2000, 'a') + "\"]");
    CHECK_FALSE(c.read(2s));
    CHECK(c.close_code() == 1009);
}

TEST_CASE("a packet that does not parse closes only its own connection, reason parse error") {
    roomcast::test::record reasons;
    test_server srv({}, [&](roomcast::server<>& io) {
        io.on_disconnect(
            [&](roomcast::socket&, std::string_view why) { reasons.add(std::string(why)); });
        io.on("ping", [](roomcast::socket&, std::string s) { return s + "!"; });
    });
    raw_client bad, good;
    REQUIRE(!bad.connect(srv.port()));
    REQUIRE(!good.connect(srv.port()));
    bad.read();
    good.read();
    join_namespace(bad);
    join_namespace(good);
    REQUIRE(bad.write("42[\"unterminated\""));
    CHECK_FALSE(bad.read_packet(2s));
    REQUIRE(eventually([&] { return reasons.size() == 1; }));
    CHECK(reasons.items()[0] == "parse error");
    REQUIRE(good.write("421[\"ping\",\"a\"]"));
    CHECK(good.read_packet() == "431[\"a!\"]");
}

TEST_CASE("a client that sends and hangs up while the shard is busy is gone at once") {
    // Its last message and the end of its stream reach the shard as one readiness: reading
    // goes on past the message to the end, rather than leaving it for a ping to find.
    roomcast::test::record events;
    std::atomic<bool> inside{false};
    test_server srv({.transport = {.ping_interval = 20s, .ping_timeout = 20s}},
                    [&](roomcast::server<>& io) {
                        io.on("busy", [&](roomcast::socket&) {
                            inside = true;
                            std::this_thread::sleep_for(300ms); // the shard does nothing else
                        });
                        io.on("last", [&](roomcast::socket&) { events.add("last"); });
                        io.on_disconnect([&](roomcast::socket&, std::string_view why) {
                            events.add(std::string(why));
                        });
                    });
    raw_client busy, leaving;
    for (auto* c : {&busy, &leaving}) {
        REQUIRE(!c->connect(srv.port()));
        c->read();
        join_namespace(*c);
    }
    REQUIRE(busy.write("42[\"busy\"]"));
    REQUIRE(eventually([&] { return inside.load(); }));
    REQUIRE(leaving.write("42[\"last\"]"));
    leaving.abort();
    REQUIRE(eventually([&] { return events.size() == 2; }, 3s));
    CHECK(events.items() == std::vector<std::string>{"last", "transport close"});
}

TEST_CASE("malformed Engine.IO and Socket.IO packets each close the connection") {
    test_server srv({}, no_handlers);
    for (std::string bad : {"9", "4", "42", "421", "42/x,", "42{}", "42[]", "42[\"connect\"]", "4x",
                            "45-[\"a\"]", "451-[\"a\",{\"_placeholder\":true,\"num\":0}]4"}) {
        INFO(bad);
        raw_client c;
        REQUIRE(!c.connect(srv.port()));
        c.read();
        REQUIRE(join_namespace(c).substr(0, 2) == "40");
        c.write(bad);
        CHECK_FALSE(c.read_packet(2s));
    }
    // A binary frame nobody announced is a parse error too.
    raw_client c;
    REQUIRE(!c.connect(srv.port()));
    c.read();
    join_namespace(c);
    c.write("\x01\x02", true);
    CHECK_FALSE(c.read_packet(2s));
}

TEST_CASE("a connection that joins no namespace is closed after connect_timeout") {
    test_server srv({.connect_timeout = 100ms}, no_handlers);
    raw_client idle, joined;
    REQUIRE(!idle.connect(srv.port()));
    REQUIRE(!joined.connect(srv.port()));
    idle.read();
    joined.read();
    join_namespace(joined);
    auto const start = std::chrono::steady_clock::now();
    CHECK_FALSE(idle.read(3s));
    CHECK(std::chrono::steady_clock::now() - start < 2s);
    CHECK(idle.error() != boost::asio::error::timed_out);
    // The joined one is still served.
    joined.write("42[\"nothing\"]");
    joined.write("41");
    joined.write("40");
    CHECK(joined.read_packet().value_or("").substr(0, 2) == "40");
}

TEST_CASE("a namespace that does not exist gets CONNECT_ERROR, with or without a comma") {
    test_server srv({}, [](roomcast::server<>& io) { io.of("/real"); });
    raw_client c;
    REQUIRE(!c.connect(srv.port()));
    c.read();
    c.write("40/nope,");
    CHECK(c.read_packet() == "44/nope,{\"message\":\"Invalid namespace\"}");
    c.write("40/random");
    CHECK(c.read_packet() == "44/random,{\"message\":\"Invalid namespace\"}");
    c.write("40/real,");
    CHECK(c.read_packet().value_or("").substr(0, 14) == "40/real,{\"sid\"");
}

TEST_CASE("a client that stops reading is disconnected once its queue passes the limit") {
    roomcast::test::record reasons;
    test_server srv({.transport = {.max_queue_bytes = 256 * 1024}}, [&](roomcast::server<>& io) {
        io.on("flood", [&](roomcast::socket& s) {
            std::string const chunk(32 * 1024, 'x');
            // Far more than the kernel's socket buffers and the queue limit together.
            for (int i = 0; i < 4000; ++i)
                s.emit("chunk", chunk);
        });
        io.on_disconnect(
            [&](roomcast::socket&, std::string_view why) { reasons.add(std::string(why)); });
    });
    raw_client c;
    REQUIRE(!c.connect(srv.port()));
    c.read();
    join_namespace(c);
    c.write("42[\"flood\"]");
    REQUIRE(eventually([&] { return reasons.size() == 1; }, 10s));
    CHECK(reasons.items()[0] == "transport error");
}

TEST_CASE("a client that sends WebSocket pings but never reads is disconnected") {
    // Its pongs count against the queue limit like messages do.
    roomcast::test::record reasons;
    test_server srv({.transport = {.max_queue_bytes = 256 * 1024}}, [&](roomcast::server<>& io) {
        io.on_disconnect(
            [&](roomcast::socket&, std::string_view why) { reasons.add(std::string(why)); });
    });
    raw_tcp s(srv.port(), 4096);
    REQUIRE(s.upgrade());
    using roomcast::protocol::websocket::opcode;
    s.write(client_frame(opcode::text, "40")); // into the main namespace
    std::string pings;
    for (int i = 0; i < 512; ++i)
        pings += client_frame(opcode::ping, std::string(125, 'p'));
    std::thread flood([&] {
        for (int i = 0; i < 1000 && s.write(pings); ++i) // 64 MiB of pings at most
            ;
    });
    CHECK(eventually([&] { return reasons.size() == 1; }, 10s));
    s.shutdown();
    flood.join();
    REQUIRE(reasons.size() == 1);
    CHECK(reasons.items()[0] == "transport error");
}

TEST_CASE("client pings: 2probe is answered, any other ping closes the connection") {
    test_server srv({}, no_handlers);
    raw_client c;
    REQUIRE(!c.connect(srv.port()));
    c.read();
    join_namespace(c);
    c.write("2probe");
    CHECK(c.read_packet() == "3probe");
    // Engine.IO v4 clients never ping: a ping flood must not make the server echo (and queue)
    // without bound.
    c.write("2" + std::string(1000, 'x'));
    CHECK_FALSE(c.read_packet(2s));
}

TEST_CASE("closing a client that stopped reading ends within the handshake timeout") {
    std::atomic<bool> filled{false};
    auto srv = std::make_unique<test_server>(
        roomcast::options{
            .transport = {.max_queue_bytes = 64 * 1024 * 1024, .handshake_timeout = 300ms}},
        [&](roomcast::server<>& io) {
            io.on("fill", [&](roomcast::socket& s) {
                std::string const chunk(1024 * 1024, 'x');
                for (int i = 0; i < 24; ++i) // far more than the socket buffers hold
                    s.emit("chunk", chunk);
                filled = true;
            });
        });
    raw_client c;
    REQUIRE(!c.connect(srv->port()));
    c.read();
    join_namespace(c);
    c.write(R"(42["fill"])");
    REQUIRE(eventually([&] { return filled.load(); }));
    // The client never reads again: close() cannot flush, and must not wait forever.
    auto const start = std::chrono::steady_clock::now();
    srv.reset();
    CHECK(std::chrono::steady_clock::now() - start < 3s);
}

TEST_CASE("close() before run() makes run() return at once, with several shards") {
    roomcast::server<> io(test_options());
    io.close();
    auto const start = std::chrono::steady_clock::now();
    std::thread t([&] { io.run(2); });
    t.join();
    CHECK(std::chrono::steady_clock::now() - start < 2s);
}

TEST_CASE("a room member that stops reading falls behind alone, and catches up in order") {
    // Each publish is written to both members in the same turn, in one batch of writes (one
    // io_uring submission where the kernel has it): the late member's writes come back short
    // and then refused, and what the kernel did not take waits, in order, while the reader's
    // writes go whole.
    test_server srv(
        {.transport = {.max_queue_bytes = 64 * 1024 * 1024}}, [&](roomcast::server<>& io) {
            io.on("join", [](roomcast::socket& s) {
                s.join("r");
                return true; // the ack says the member is in the room
            });
            io.on("pub", [&io](roomcast::socket&, int i) {
                io.to("r").emit("msg", i, std::string(16 * 1024, static_cast<char>('a' + i % 26)));
            });
        });
    auto const expected = [](int i) {
        return "42[\"msg\"," + std::to_string(i) + ",\"" +
               std::string(16 * 1024, static_cast<char>('a' + i % 26)) + "\"]";
    };
    raw_client reader, late;
    join_room(reader, srv.port());
    join_room(late, srv.port());
    reader.write(R"(42["pub",0])");
    REQUIRE(reader.read_packet() == expected(0));
    // 600 messages of 16 KiB, about 10 MB: more than the kernel's buffers hold for `late`.
    for (int i = 1; i <= 600; ++i) {
        reader.write("42[\"pub\"," + std::to_string(i) + "]");
        REQUIRE(reader.read_packet() == expected(i));
    }
    for (int i = 0; i <= 600; ++i)
        REQUIRE(late.read_packet() == expected(i));
}

TEST_CASE("a broadcast to more members than one batch of writes holds reaches each, in order") {
    // A turn's writes go to the kernel in batches of at most 256 sends and 512 KiB (one
    // io_uring submission each where the kernel has it). With 270 members, a small broadcast
    // fills a batch by count and a 3,000-byte one by bytes: each is written in two batches.
    // Every member gets every message whole and in order, whichever batch its writes were in.
    constexpr int members = 270;
    // Each in-process client and its session hold about ten descriptors.
    if (!allow_descriptors(4096)) {
        WARN("skipped: the hard limit on open files is below 4,096");
        return;
    }
    test_server srv({}, [](roomcast::server<>& io) {
        io.on("join", [](roomcast::socket& s) {
            s.join("r");
            return true; // the ack says the member is in the room
        });
        io.on("pub", [&io](roomcast::socket&, int i, std::size_t size) {
            io.to("r").emit("msg", i, std::string(size, static_cast<char>('a' + i)));
            return true; // answered in the same turn: the next publish comes in a turn of its own
        });
    });
    auto const sizes = std::array<std::size_t, 4>{10, 3000, 10, 3000};
    auto const expected = [&](std::size_t i) {
        return "42[\"msg\"," + std::to_string(i) + ",\"" +
               std::string(sizes[i], static_cast<char>('a' + i)) + "\"]";
    };
    std::vector<raw_client> clients(members);
    for (auto& c : clients)
        join_room(c, srv.port());
    raw_client publisher;
    REQUIRE(!publisher.connect(srv.port()));
    publisher.read();
    REQUIRE(join_namespace(publisher).substr(0, 2) == "40");
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        auto const id = std::to_string(i + 1);
        publisher.write("42" + id + "[\"pub\"," + std::to_string(i) + "," +
                        std::to_string(sizes[i]) + "]");
        REQUIRE(publisher.read_packet() == "43" + id + "[true]");
    }
    for (auto& c : clients)
        for (std::size_t i = 0; i < sizes.size(); ++i)
            REQUIRE(c.read_packet() == expected(i));
}

#if defined(ROOMCAST_IO_URING)
TEST_CASE("when io_uring stops working mid-run, broadcasts go on through send") {
    // A ring in use whose io_uring_enter starts failing (a seccomp policy loaded later, the
    // kernel out of memory for good): the batch it was given is reported as not submitted,
    // the ring is closed, and the same bytes go out with `send`, then and from then on.
    if (!io_uring_available()) {
        WARN("skipped: this kernel gives this process no io_uring");
        return;
    }
    CHECK(run_test_in_own_process("io_uring failing mid-run in a process of its own") == 0);
}

TEST_CASE("io_uring failing mid-run in a process of its own", "[.]") {
    test_server srv({}, [](roomcast::server<>& io) {
        io.on("join", [](roomcast::socket& s) {
            s.join("r");
            return true;
        });
        io.on("pub", [&io](roomcast::socket&, int i) {
            io.to("r").emit("msg", i, std::string(1000, static_cast<char>('a' + i)));
            return true;
        });
    });
    auto const expected = [](int i) {
        return "42[\"msg\"," + std::to_string(i) + ",\"" +
               std::string(1000, static_cast<char>('a' + i)) + "\"]";
    };
    std::vector<raw_client> members(3);
    for (auto& c : members)
        join_room(c, srv.port());
    auto& publisher = members.front();
    for (int i = 0; i < 4; ++i) {
        // The first broadcast goes through the ring; the ring fails before the second. (The
        // same tests also run on a server built without epoll, which has no ring: there every
        // broadcast goes through `send`, and this still holds.)
        if (i == 1 && !forbid_io_uring_enter()) {
            WARN("skipped: the kernel takes no seccomp filter from this process");
            return;
        }
        auto const id = std::to_string(i + 2);
        publisher.write("42" + id + "[\"pub\"," + std::to_string(i) + "]");
        for (auto& c : members)
            REQUIRE(c.read_packet() == expected(i));
        REQUIRE(publisher.read_packet() == "43" + id + "[true]");
    }
}
#endif
