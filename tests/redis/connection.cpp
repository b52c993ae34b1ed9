// The Redis connection against a real redis-server: replies, pipelining, pub/sub, the loss and
// return of Redis, close(), the queue limit and AUTH. Every wait is bounded; each test runs its
// own io_context on the test's thread and its own redis-server, stopped even when it fails.
#include "catch.hpp"
#include "redis_server.hpp"

#include <roomcast/adapter/redis/connection.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace net = boost::asio;
namespace redis = roomcast::adapter::redis;
using roomcast::test::redis_server;
using error_code = boost::system::error_code;
using kind = redis::reply::kind;
using namespace std::chrono_literals;

namespace {

using steady = std::chrono::steady_clock;

/// Runs `io` until `pred()` holds; false if `timeout` passed first.
template<class Pred>
bool run_until(net::io_context& io, Pred pred, std::chrono::milliseconds timeout = 5s) {
    auto const deadline = steady::now() + timeout;
    while (!pred()) {
        if (steady::now() >= deadline)
            return false;
        if (io.stopped())
            io.restart();
        if (io.run_one_for(10ms) == 0 && io.stopped())
            std::this_thread::sleep_for(1ms); // nothing to run: waiting for another process
    }
    return true;
}

/// Runs `io` until it has no work left; how long that took (5 s at most).
std::chrono::milliseconds run_to_end(net::io_context& io) {
    auto const t0 = steady::now();
    io.restart();
    io.run_for(5s);
    return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - t0);
}

/// Quick reconnection, so that the tests do not wait for backoff.
redis::connection_options options(std::uint16_t port) {
    redis::connection_options o;
    o.server.port = port;
    o.connect_timeout = 2s;
    o.initial_backoff = 20ms;
    o.max_backoff = 200ms;
    return o;
}

struct message {
    std::string pattern, channel, payload;
    bool operator==(message const&) const = default;
};

/// A connection and what its hooks reported.
struct client {
    client(net::io_context& io, redis::connection_options o)
        : conn(std::make_shared<redis::connection>(io.get_executor(), std::move(o))) {
        conn->on_state([this](bool up, error_code ec) { states.emplace_back(up, ec); });
        conn->on_message([this](std::string_view p, std::string_view c, std::string_view m) {
            messages.push_back({std::string(p), std::string(c), std::string(m)});
        });
    }
    ~client() { conn->close(); }
    client(client const&) = delete;
    client& operator=(client const&) = delete;

    redis::connection* operator->() const { return conn.get(); }

    std::shared_ptr<redis::connection> conn;
    std::vector<std::pair<bool, error_code>> states;
    std::vector<message> messages;
};

struct outcome {
    bool done = false;
    error_code ec;
    redis::reply r;
};

/// Sends a command; the outcome fills in when it completes.
std::shared_ptr<outcome> send(client& c, std::vector<std::string> const& args) {
    auto out = std::make_shared<outcome>();
    c->command(args, [out](error_code ec, redis::reply r) {
        out->done = true;
        out->ec = ec;
        out->r = std::move(r);
    });
    return out;
}

/// Sends a command and waits for its outcome.
outcome exec(net::io_context& io, client& c, std::vector<std::string> const& args) {
    auto out = send(c, args);
    REQUIRE(run_until(io, [&] { return out->done; }));
    return *out;
}

void start_all(net::io_context& io, std::initializer_list<client*> clients) {
    for (auto* c : clients)
        (*c)->start();
    REQUIRE(run_until(io, [&] {
        for (auto* c : clients)
            if (!(*c)->connected())
                return false;
        return true;
    }));
}

std::string binary_payload(std::size_t size) {
    std::string s(size, '\0');
    for (std::size_t i = 0; i < size; ++i)
        s[i] = static_cast<char>((i * 131) % 251); // every byte value, NUL and CR LF included
    return s;
}

} // namespace

TEST_CASE("replies of every kind, with binary and large values") {
    redis_server srv;
    net::io_context io;
    client c(io, options(srv.port()));
    start_all(io, {&c});
    REQUIRE(c.states.size() == 1);
    CHECK(c.states[0].first);
    CHECK(!c.states[0].second);

    auto r = exec(io, c, {"PING"});
    CHECK(!r.ec);
    CHECK(r.r.type == kind::status);
    CHECK(r.r.str == "PONG");

    std::string const key("bin\0key", 7);
    std::string const value("a\0b\r\n\0c$3\r\n", 11);
    r = exec(io, c, {"SET", key, value});
    CHECK(r.r.type == kind::status);
    CHECK(r.r.str == "OK");
    r = exec(io, c, {"GET", key});
    CHECK(!r.ec);
    CHECK(r.r.type == kind::string);
    CHECK(r.r.str == value);

    auto const big = binary_payload(1 << 20);
    r = exec(io, c, {"SET", "big", big});
    CHECK(r.r.str == "OK");
    r = exec(io, c, {"GET", "big"});
    CHECK(r.r.type == kind::string);
    CHECK(r.r.str.size() == big.size());
    CHECK(r.r.str == big);

    r = exec(io, c, {"INCR", "counter"});
    CHECK(r.r.type == kind::integer);
    CHECK(r.r.integer == 1);
    r = exec(io, c, {"INCRBY", "counter", "-43"});
    CHECK(r.r.integer == -42);

    r = exec(io, c, {"INCR", key});
    CHECK(r.ec == redis::error::redis_error);
    CHECK(r.r.type == kind::error);
    CHECK(r.r.str.rfind("ERR", 0) == 0);
    r = exec(io, c, {"NO-SUCH-COMMAND"});
    CHECK(r.ec == redis::error::redis_error);
    CHECK(r.r.type == kind::error);

    r = exec(io, c, {"GET", "missing"});
    CHECK(!r.ec);
    CHECK(r.r.type == kind::nil);

    r = exec(io, c, {"RPUSH", "list", "a", "", std::string(1, '\0')});
    CHECK(r.r.integer == 3);
    r = exec(io, c, {"LRANGE", "list", "0", "-1"});
    REQUIRE(r.r.type == kind::array);
    REQUIRE(r.r.elements.size() == 3);
    CHECK(r.r.elements[0].str == "a");
    CHECK(r.r.elements[1].type == kind::string);
    CHECK(r.r.elements[1].str.empty());
    CHECK(r.r.elements[2].str == std::string(1, '\0'));
    r = exec(io, c, {"LRANGE", "missing", "0", "-1"});
    CHECK(r.r.type == kind::array);
    CHECK(r.r.elements.empty());

    // Nested arrays holding every kind; the error inside does not fail the command.
    r = exec(io, c,
             {"EVAL",
              "return {1, 'two', {3, redis.status_reply('FOUR')}, redis.error_reply('FIVE'), "
              "false}",
              "0"});
    CHECK(!r.ec);
    REQUIRE(r.r.type == kind::array);
    REQUIRE(r.r.elements.size() == 5);
    CHECK(r.r.elements[0].type == kind::integer);
    CHECK(r.r.elements[0].integer == 1);
    CHECK(r.r.elements[1].type == kind::string);
    CHECK(r.r.elements[1].str == "two");
    REQUIRE(r.r.elements[2].type == kind::array);
    REQUIRE(r.r.elements[2].elements.size() == 2);
    CHECK(r.r.elements[2].elements[0].integer == 3);
    CHECK(r.r.elements[2].elements[1].type == kind::status);
    CHECK(r.r.elements[2].elements[1].str == "FOUR");
    CHECK(r.r.elements[3].type == kind::error);
    CHECK(r.r.elements[3].str.find("FIVE") != std::string::npos);
    CHECK(r.r.elements[4].type == kind::nil);
}

TEST_CASE("pipelined commands complete in order") {
    redis_server srv;
    net::io_context io;
    client c(io, options(srv.port()));
    start_all(io, {&c});

    constexpr int n = 2000;
    std::vector<int> order;
    int wrong = 0;
    for (int i = 0; i < n; ++i) {
        if (i % 2 == 0) {
            c->command({"INCR", "seq"}, [&, i](error_code ec, redis::reply r) {
                order.push_back(i);
                if (ec || r.type != kind::integer || r.integer != i / 2 + 1)
                    ++wrong;
            });
        } else {
            c->command({"ECHO", std::to_string(i)}, [&, i](error_code ec, redis::reply r) {
                order.push_back(i);
                if (ec || r.type != kind::string || r.str != std::to_string(i))
                    ++wrong;
            });
        }
    }
    CHECK(c->queued_bytes() > 0);
    REQUIRE(run_until(io, [&] { return order.size() == n; }));
    CHECK(wrong == 0);
    bool in_order = true;
    for (int i = 0; i < n; ++i)
        in_order = in_order && order[i] == i;
    CHECK(in_order);
    // The last write's handler may run after the replies it brought.
    CHECK(run_until(io, [&] { return c->queued_bytes() == 0; }));
}

TEST_CASE("PUBLISH reaches SUBSCRIBE and PSUBSCRIBE subscribers") {
    redis_server srv;
    net::io_context io;
    client pub(io, options(srv.port()));
    client sub(io, options(srv.port()));
    // Before start(): remembered, and subscribed before the connection counts as up.
    sub->subscribe("news");
    sub->psubscribe("news.*");
    start_all(io, {&pub, &sub});

    auto r = exec(io, pub, {"PUBSUB", "NUMSUB", "news"});
    REQUIRE(r.r.elements.size() == 2);
    CHECK(r.r.elements[0].str == "news");
    CHECK(r.r.elements[1].integer == 1);
    CHECK(exec(io, pub, {"PUBSUB", "NUMPAT"}).r.integer == 1);

    std::string const hello("hello\0world\r\n", 13);
    auto const big = binary_payload(1 << 20);
    CHECK(exec(io, pub, {"PUBLISH", "news", hello}).r.integer == 1);
    CHECK(exec(io, pub, {"PUBLISH", "news.sport", "goal"}).r.integer == 1);
    CHECK(exec(io, pub, {"PUBLISH", "news.big", big}).r.integer == 1);
    CHECK(exec(io, pub, {"PUBLISH", "elsewhere", "x"}).r.integer == 0);
    REQUIRE(run_until(io, [&] { return sub.messages.size() == 3; }));
    CHECK(sub.messages[0] == message{"", "news", hello});
    CHECK(sub.messages[1] == message{"news.*", "news.sport", "goal"});
    CHECK(sub.messages[2].pattern == "news.*");
    CHECK(sub.messages[2].channel == "news.big");
    CHECK(sub.messages[2].payload == big);

    // A subscribed connection still answers PING (RESP2's ["pong", ""]), and Redis refuses
    // other commands: neither is taken for a push.
    r = exec(io, sub, {"PING"});
    CHECK(!r.ec);
    REQUIRE(r.r.type == kind::array);
    CHECK(r.r.elements.at(0).str == "pong");
    r = exec(io, sub, {"GET", "x"});
    CHECK(r.ec == redis::error::redis_error);

    // Subscribing while up: done once Redis confirmed.
    std::optional<error_code> subscribed;
    sub->subscribe("other", [&](error_code ec) { subscribed = ec; });
    REQUIRE(run_until(io, [&] { return subscribed.has_value(); }));
    CHECK(!*subscribed);
    CHECK(exec(io, pub, {"PUBLISH", "other", std::string(1, '\0')}).r.integer == 1);
    REQUIRE(run_until(io, [&] { return sub.messages.size() == 4; }));
    CHECK(sub.messages[3] == message{"", "other", std::string(1, '\0')});

    std::optional<error_code> unsubscribed, punsubscribed;
    sub->unsubscribe("news", [&](error_code ec) { unsubscribed = ec; });
    sub->punsubscribe("news.*", [&](error_code ec) { punsubscribed = ec; });
    REQUIRE(run_until(io, [&] { return unsubscribed && punsubscribed; }));
    CHECK(!*unsubscribed);
    CHECK(!*punsubscribed);
    CHECK(exec(io, pub, {"PUBSUB", "NUMSUB", "news"}).r.elements.at(1).integer == 0);
    CHECK(exec(io, pub, {"PUBSUB", "NUMPAT"}).r.integer == 0);
    CHECK(exec(io, pub, {"PUBLISH", "news", "gone"}).r.integer == 0);

    // Leaving the last subscription leaves subscriber mode: plain commands work again.
    sub->unsubscribe("other");
    r = exec(io, sub, {"ECHO", "message"});
    CHECK(!r.ec);
    CHECK(r.r.str == "message");
    r = exec(io, sub, {"EVAL", "return {'message', 'a', 'b'}", "0"});
    CHECK(r.r.elements.size() == 3);
    CHECK(sub.messages.size() == 4);
}

TEST_CASE("commands fail at once while not connected") {
    redis_server srv(false); // nothing listens on its port
    net::io_context io;
    client c(io, options(srv.port()));

    auto out = send(c, {"PING"});
    CHECK(!out->done); // never inside command()
    io.poll();
    CHECK(out->done);
    CHECK(out->ec == redis::error::not_connected);

    c->start();
    out = send(c, {"PING"});
    io.restart();
    io.poll();
    CHECK(out->done);
    CHECK(out->ec == redis::error::not_connected);
}

TEST_CASE("Redis unreachable at start: failures are reported until it comes") {
    redis_server srv(false);
    net::io_context io;
    client c(io, options(srv.port()));
    std::optional<error_code> subscribed;
    c->subscribe("later", [&](error_code ec) { subscribed = ec; });
    c->start();
    REQUIRE(run_until(io, [&] { return c.states.size() >= 3; }));
    for (auto const& [up, ec] : c.states) {
        CHECK(!up);
        CHECK(ec == net::error::connection_refused);
    }
    REQUIRE(subscribed.has_value());
    CHECK(*subscribed == redis::error::not_connected);

    srv.start();
    REQUIRE(run_until(io, [&] { return c->connected(); }));
    CHECK(c.states.back().first);
    auto const pong = exec(io, c, {"PING"}); // subscribed: ["pong", ""]
    CHECK(!pong.ec);
    CHECK(pong.r.elements.size() == 2);

    // The subscription made while Redis was away is in place.
    client pub(io, options(srv.port()));
    start_all(io, {&pub});
    CHECK(exec(io, pub, {"PUBLISH", "later", "hi"}).r.integer == 1);
    REQUIRE(run_until(io, [&] { return c.messages.size() == 1; }));
    CHECK(c.messages[0] == message{"", "later", "hi"});
}

TEST_CASE("Redis restarted during a run: down, up, subscriptions restored") {
    redis_server srv;
    net::io_context io;
    client cmd(io, options(srv.port()));
    client sub(io, options(srv.port()));
    sub->subscribe("chan");
    sub->psubscribe("pat.*");
    start_all(io, {&cmd, &sub});

    for (bool const crash : {false, true}) {
        INFO((crash ? "SIGKILL" : "SIGTERM"));
        // In flight at the drop: a BLPOP that never returns, and a command behind it.
        auto blocked = send(cmd, {"BLPOP", "never", "0"});
        auto behind = send(cmd, {"PING"});
        REQUIRE(run_until(io, [&] { return cmd->queued_bytes() == 0; }));
        auto const cmd_seen = cmd.states.size();
        auto const sub_seen = sub.states.size();
        if (crash)
            srv.crash();
        else
            srv.stop();
        REQUIRE(run_until(io, [&] {
            return blocked->done && behind->done && cmd.states.size() > cmd_seen &&
                   sub.states.size() > sub_seen;
        }));
        CHECK(blocked->ec);
        CHECK(blocked->ec != redis::error::closed);
        CHECK(behind->ec == blocked->ec);
        CHECK(!cmd.states[cmd_seen].first);
        CHECK(cmd.states[cmd_seen].second == blocked->ec);
        CHECK(!sub.states[sub_seen].first);
        CHECK(sub.states[sub_seen].second);
        CHECK(exec(io, cmd, {"PING"}).ec == redis::error::not_connected);

        srv.start();
        REQUIRE(run_until(io, [&] { return cmd->connected() && sub->connected(); }));
        CHECK(sub.states.back().first);
        CHECK(!sub.states.back().second);
        CHECK(exec(io, cmd, {"PUBSUB", "NUMSUB", "chan"}).r.elements.at(1).integer == 1);
        CHECK(exec(io, cmd, {"PUBSUB", "NUMPAT"}).r.integer == 1);
        sub.messages.clear();
        CHECK(exec(io, cmd, {"PUBLISH", "chan", "again"}).r.integer == 1);
        CHECK(exec(io, cmd, {"PUBLISH", "pat.x", "and again"}).r.integer == 1);
        REQUIRE(run_until(io, [&] { return sub.messages.size() == 2; }));
        CHECK(sub.messages[0] == message{"", "chan", "again"});
        CHECK(sub.messages[1] == message{"pat.*", "pat.x", "and again"});
    }
}

TEST_CASE("a connection attempt past connect_timeout fails with timed_out") {
    // Accepts, never answers: the SUBSCRIBE of the handshake waits for nothing.
    net::io_context io;
    net::ip::tcp::acceptor silent(io, {net::ip::address_v4::loopback(), 0});
    auto o = options(silent.local_endpoint().port());
    o.connect_timeout = 200ms;
    o.initial_backoff = 5s;
    o.max_backoff = 5s;
    client c(io, o);
    c->subscribe("x");
    auto const t0 = steady::now();
    c->start();
    REQUIRE(run_until(io, [&] { return !c.states.empty(); }));
    CHECK(steady::now() - t0 >= 200ms);
    CHECK(!c.states[0].first);
    CHECK(c.states[0].second == net::error::timed_out);
    CHECK(!c->connected());
}

TEST_CASE("close() leaves no work behind") {
    SECTION("while up, with a command in flight and subscriptions") {
        redis_server srv;
        net::io_context io;
        client c(io, options(srv.port()));
        client s(io, options(srv.port()));
        s->subscribe("x");
        s->psubscribe("y.*");
        start_all(io, {&c, &s});
        auto blocked = send(c, {"BLPOP", "never", "0"});
        REQUIRE(run_until(io, [&] { return c->queued_bytes() == 0; }));
        auto const seen = c.states.size() + s.states.size();
        c->close();
        s->close();
        CHECK(!c->connected());
        auto after = send(c, {"PING"});
        CHECK(run_to_end(io) < 1s);
        CHECK(io.stopped());
        CHECK(blocked->ec == redis::error::closed);
        CHECK(after->ec == redis::error::closed);
        CHECK(c.states.size() + s.states.size() == seen);
        c->start(); // a closed connection stays closed
        CHECK(run_to_end(io) < 1s);
        CHECK(!c->connected());
    }
    SECTION("while waiting to reconnect") {
        redis_server srv(false);
        net::io_context io;
        auto o = options(srv.port());
        o.initial_backoff = 10s;
        o.max_backoff = 10s;
        client c(io, o);
        c->start();
        REQUIRE(run_until(io, [&] { return c.states.size() == 1; }));
        c->close();
        CHECK(run_to_end(io) < 1s);
        CHECK(io.stopped());
        CHECK(c.states.size() == 1);
    }
    SECTION("while connecting") {
        redis_server srv;
        net::io_context io;
        client c(io, options(srv.port()));
        c->start();
        c->close();
        CHECK(run_to_end(io) < 1s);
        CHECK(io.stopped());
        CHECK(c.states.empty());
    }
    SECTION("while the handshake waits for Redis") {
        net::io_context io;
        net::ip::tcp::acceptor silent(io, {net::ip::address_v4::loopback(), 0});
        std::optional<net::ip::tcp::socket> peer;
        silent.async_accept([&](error_code ec, net::ip::tcp::socket s) {
            if (!ec)
                peer = std::move(s);
        });
        auto o = options(silent.local_endpoint().port());
        o.password = "secret";
        client c(io, o);
        c->start();
        REQUIRE(run_until(io, [&] { return peer.has_value(); }));
        c->close();
        silent.close();
        peer->close();
        CHECK(run_to_end(io) < 1s);
        CHECK(io.stopped());
        CHECK(c.states.empty());
    }
    SECTION("from a reply handler: the commands behind complete with closed") {
        redis_server srv;
        net::io_context io;
        client c(io, options(srv.port()));
        start_all(io, {&c});
        std::vector<error_code> results;
        c->command({"PING"}, [&](error_code ec, redis::reply) {
            results.push_back(ec);
            c->close();
        });
        c->command({"PING"}, [&](error_code ec, redis::reply) { results.push_back(ec); });
        c->command({"PING"}, [&](error_code ec, redis::reply) { results.push_back(ec); });
        CHECK(run_to_end(io) < 1s);
        REQUIRE(results.size() == 3);
        CHECK(!results[0]);
        CHECK(results[1] == redis::error::closed);
        CHECK(results[2] == redis::error::closed);
        CHECK(c.states.size() == 1);
    }
}

TEST_CASE("commands past max_queued_bytes fail with queue_full") {
    redis_server srv;
    net::io_context io;
    auto o = options(srv.port());
    o.max_queued_bytes = 64 * 1024;
    client c(io, o);
    start_all(io, {&c});

    std::string const value(4096, 'v');
    int ok = 0, full = 0, other = 0;
    for (int i = 0; i < 100; ++i) {
        c->command({"SET", "k" + std::to_string(i), value}, [&](error_code ec, redis::reply) {
            if (!ec)
                ++ok;
            else if (ec == redis::error::queue_full)
                ++full;
            else
                ++other;
        });
        CHECK(c->queued_bytes() <= o.max_queued_bytes);
    }
    REQUIRE(run_until(io, [&] { return ok + full + other == 100; }));
    CHECK(ok >= 10);
    CHECK(ok <= 16);
    CHECK(full == 100 - ok);
    CHECK(other == 0);
    CHECK(exec(io, c, {"SET", "big", std::string(o.max_queued_bytes, 'b')}).ec ==
          redis::error::queue_full);
    // Once written, the room is back.
    CHECK(run_until(io, [&] { return c->queued_bytes() == 0; }));
    CHECK(exec(io, c, {"SET", "k", value}).r.str == "OK");
}

TEST_CASE("AUTH, with and without a user name, and a refused password") {
    redis_server srv(true, {"--requirepass", "s3cret"});
    net::io_context io;
    auto o = options(srv.port());
    o.password = "s3cret";
    client good(io, o);
    o.username = "default";
    client acl(io, o);
    o.username.clear();
    o.password = "wrong";
    client bad(io, o);
    good->subscribe("ch");
    bad->start();
    start_all(io, {&good, &acl});
    CHECK(exec(io, acl, {"PING"}).r.str == "PONG");
    CHECK(exec(io, acl, {"PUBLISH", "ch", "m"}).r.integer == 1);
    REQUIRE(run_until(io, [&] { return bad.states.size() >= 2; }));
    for (auto const& [up, ec] : bad.states) {
        CHECK(!up);
        CHECK(ec == redis::error::redis_error);
    }
    CHECK(!bad->connected());
}

TEST_CASE("command() refuses what would break reply matching") {
    redis_server srv;
    net::io_context io;
    client c(io, options(srv.port()));
    start_all(io, {&c});
    CHECK(exec(io, c, {"subscribe", "x"}).ec == redis::error::invalid_command);
    CHECK(exec(io, c, {"PSUBSCRIBE", "x"}).ec == redis::error::invalid_command);
    CHECK(exec(io, c, {"Monitor"}).ec == redis::error::invalid_command);
    CHECK(exec(io, c, {}).ec == redis::error::invalid_command);
    CHECK(exec(io, c, {"PING"}).r.str == "PONG");
    CHECK(error_code(redis::error::queue_full).message() == "Redis command queue full");
}
