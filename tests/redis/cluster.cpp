// The Redis adapter and the emitter in process, against a real redis-server: what the
// emitter sends reaches a server's clients; a server whose Redis is away keeps serving its
// own clients, says so, answers queries with what it has, and closes promptly.
#include "catch.hpp"
#include "raw_client.hpp"
#include "redis_server.hpp"
#include "test_server.hpp"

#include <roomcast/redis.hpp>
#include <roomcast/redis_emitter.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace roomcast::test;
using namespace std::chrono_literals;

namespace {

using redis_server_t = roomcast::server<roomcast::transport::websocket, roomcast::redis_adapter>;

/// A server on the Redis adapter, run on `threads` shards for the duration of a test. Its
/// clients `join` rooms (acknowledged); server-side "hello" events are recorded.
class cluster_server {
public:
    cluster_server(std::uint16_t redis_port, std::size_t threads = 1)
        : io_(test_options(), options(redis_port)) {
        io_.on("join", [](roomcast::socket& s, std::string room) {
            s.join(room);
            return true;
        });
        io_.on("shout", [this](roomcast::socket&, std::string room) {
            io_.to(room).emit("shouted", room);
            return true;
        });
        io_.on_server_side_emit("hello",
                                [this](boost::json::array const& args, roomcast::server_reply) {
                                    std::lock_guard lock(m_);
                                    hellos_.push_back(boost::json::serialize(args));
                                });
        thread_ = std::thread([this, threads] { io_.run(threads); });
    }
    ~cluster_server() {
        io_.close();
        thread_.join();
    }

    std::uint16_t port() const { return io_.port(); }
    redis_server_t& io() { return io_; }
    bool connected() const { return connected_; }
    int downs() const { return downs_; }
    std::vector<std::string> hellos() {
        std::lock_guard lock(m_);
        return hellos_;
    }

private:
    roomcast::redis_options options(std::uint16_t port) {
        return {.port = port,
                .initial_backoff = 20ms,
                .max_backoff = 200ms,
                .on_state = [this](bool up, boost::system::error_code) {
                    connected_ = up;
                    downs_ += !up;
                }};
    }

    std::atomic<bool> connected_{false};
    std::atomic<int> downs_{0};
    std::mutex m_;
    std::vector<std::string> hellos_;
    redis_server_t io_;
    std::thread thread_;
};

/// Connects to "/" and returns the socket id.
std::string connect(raw_client& c, std::uint16_t port) {
    REQUIRE(!c.connect(port));
    REQUIRE(c.read().value_or("").substr(0, 1) == "0");
    c.write("40");
    auto const answer = c.read_packet().value_or("");
    REQUIRE(answer.substr(0, 3) == "40{");
    return std::string(boost::json::parse(answer.substr(2)).as_object().at("sid").as_string());
}

void join(raw_client& c, std::string const& room, int id) {
    c.write("42" + std::to_string(id) + R"(["join",")" + room + R"("])");
    REQUIRE(c.read_packet() == "43" + std::to_string(id) + "[true]");
}

/// Runs an emitter on its own io_context until `flush` completes.
class emitter_runner {
public:
    explicit emitter_runner(std::uint16_t redis_port)
        : em(ctx.get_executor(), {.port = redis_port}) {}

    /// Flushes and waits for it; true when Redis took everything.
    bool flush() {
        std::promise<boost::system::error_code> done;
        em.flush([&](boost::system::error_code ec) { done.set_value(ec); });
        ctx.restart();
        auto f = done.get_future();
        while (f.wait_for(0s) != std::future_status::ready) {
            if (ctx.run_for(5s) == 0 && f.wait_for(0s) != std::future_status::ready)
                return false;
        }
        return !f.get();
    }
    ~emitter_runner() {
        em.close();
        ctx.restart();
        ctx.run_for(2s);
    }

    boost::asio::io_context ctx;
    roomcast::redis_emitter em;
};

} // namespace

TEST_CASE("the emitter reaches the clients of a cluster") {
    redis_server redis;
    cluster_server server(redis.port(), 2);
    REQUIRE(eventually([&] { return server.connected(); }));
    raw_client a, b;
    auto const id_a = connect(a, server.port());
    connect(b, server.port());
    join(a, "news", 1);
    join(b, "sports", 2);

    emitter_runner run(redis.port());
    // A broadcast to a room, with a binary argument.
    run.em.to("news").emit("headline", 7, roomcast::binary(std::string_view("\x01\x02", 2)));
    REQUIRE(run.flush());
    CHECK(a.read_packet() == R"(451-["headline",7,{"_placeholder":true,"num":0}])");
    auto const bytes = a.read();
    CHECK(a.last_binary());
    CHECK(bytes == std::string("\x01\x02", 2));

    // Everyone but a room's members.
    run.em.except("news").emit("quiet", "x");
    // sockets_join, then a broadcast to the joined room.
    run.em.in(id_a).sockets_join("late");
    run.em.to("late").emit("late", true);
    REQUIRE(run.flush());
    CHECK(b.read_packet() == R"(42["quiet","x"])");
    CHECK(a.read_packet() == R"(42["late",true])");

    // A server-side event reaches the server's handler.
    run.em.server_side_emit("hello", 1, "two");
    REQUIRE(run.flush());
    REQUIRE(eventually([&] { return !server.hellos().empty(); }));
    CHECK(server.hellos().front() == R"([1,"two"])");

    // Another namespace's emitter reaches nobody here; disconnect_sockets does.
    run.em.of("/other").emit("elsewhere");
    run.em.in("sports").disconnect_sockets();
    REQUIRE(run.flush());
    CHECK(b.read_packet() == "41");
    CHECK_FALSE(a.read_packet(300ms)); // nothing for a: not /other's, not in sports
}

TEST_CASE("a server whose Redis is away serves its own clients and closes promptly") {
    redis_server redis;
    auto server = std::make_unique<cluster_server>(redis.port(), 2);
    REQUIRE(eventually([&] { return server->connected(); }));
    raw_client a, b;
    connect(a, server->port());
    connect(b, server->port());
    join(a, "room", 1);
    join(b, "room", 2);

    redis.stop();
    REQUIRE(eventually([&] { return !server->connected(); }));
    CHECK(server->downs() >= 1);

    // Local delivery never stops.
    a.write(R"(423["shout","room"])");
    CHECK(a.read_packet() == R"(42["shouted","room"])");
    CHECK(a.read_packet() == "433[true]");
    CHECK(b.read_packet() == R"(42["shouted","room"])");

    // Queries answer with what this server has.
    std::promise<std::pair<boost::system::error_code, std::size_t>> counted;
    server->io().in("room").socket_count([&](boost::system::error_code ec, std::size_t n) {
        counted.set_value({ec, n});
    });
    auto f = counted.get_future();
    REQUIRE(f.wait_for(5s) == std::future_status::ready);
    CHECK(f.get().second == 2);

    // Back: the cluster connection comes up again by itself.
    redis.restart();
    REQUIRE(eventually([&] { return server->connected(); }, 10s));

    // Away again, and closing while it tries to reconnect does not hang. (The clients go
    // first: a client that does not read would hold the close handshake.)
    redis.stop();
    REQUIRE(eventually([&] { return !server->connected(); }));
    a.abort();
    b.abort();
    auto const before = std::chrono::steady_clock::now();
    server.reset();
    CHECK(std::chrono::steady_clock::now() - before < 5s);
}
