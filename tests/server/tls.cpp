// TLS on the server's port (roomcast/tls.hpp): wss:// and https:// polling with a client that
// verifies the server's certificate (made by the test run), the upgrade between them across
// shards, messages larger than a record and than a write batch, broadcasts written to several
// TLS connections together, and the connections that are not TLS or never finish their
// handshake.
#include "catch.hpp"
#include "raw_client.hpp"
#include "test_cert.hpp"
#include "test_server.hpp"

#include <roomcast/roomcast.hpp>
#include <roomcast/tls.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/json.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace {

namespace net = boost::asio;
namespace ssl = net::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ws = beast::websocket;
using tcp = net::ip::tcp;
using roomcast::test::eventually;
using namespace std::chrono_literals;

roomcast::test::test_certificate const& certificate() {
    static auto const c = roomcast::test::make_test_certificate();
    return c;
}

/// The server's TLS settings, from the test certificate.
std::shared_ptr<roomcast::transport::tls_factory const> server_tls_factory() {
    ssl::context ctx(ssl::context::tls_server);
    ctx.use_certificate_chain(net::buffer(certificate().certificate_pem));
    ctx.use_private_key(net::buffer(certificate().key_pem), ssl::context::pem);
    return roomcast::tls(std::move(ctx));
}

roomcast::options tls_options(roomcast::options o = {}) {
    o.transport.tls = server_tls_factory();
    return o;
}

/// A client context that trusts the test certificate only, and checks the name.
ssl::context client_context() {
    ssl::context ctx(ssl::context::tls_client);
    ctx.add_certificate_authority(net::buffer(certificate().certificate_pem));
    ctx.set_verify_mode(ssl::verify_peer);
    return ctx;
}

/// Runs `ioc` until `done` or `timeout`; false on timeout.
bool run_until(net::io_context& ioc, bool const& done, std::chrono::milliseconds timeout = 5s) {
    ioc.restart();
    auto const deadline = std::chrono::steady_clock::now() + timeout;
    while (!done && std::chrono::steady_clock::now() < deadline)
        ioc.run_one_for(deadline - std::chrono::steady_clock::now());
    return done;
}

/// A TLS connection to the server: an HTTP client (polling) or a WebSocket client, every
/// step bounded in time.
class tls_client {
public:
    explicit tls_client(std::uint16_t port)
        : ctx_(client_context())
        , ws_(ioc_, ctx_) {
        auto& stream = ws_.next_layer();
        SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
        stream.set_verify_callback(ssl::host_name_verification("localhost"));
        beast::get_lowest_layer(ws_).connect(
            tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    }

    /// The TLS handshake; its error (a certificate the client does not trust, say).
    beast::error_code handshake() {
        return wait(
            [&](auto done) { ws_.next_layer().async_handshake(ssl::stream_base::client, done); });
    }

    /// Sends one HTTP request on this connection.
    bool send(http::verb verb, std::string target, std::string body = {}) {
        http::request<http::string_body> req(verb, target, 11);
        req.set(http::field::host, "localhost");
        req.keep_alive(true);
        req.body() = std::move(body);
        req.prepare_payload();
        return !wait([&](auto done) { http::async_write(ws_.next_layer(), req, done); });
    }

    /// One HTTP request on this connection; nullopt if no answer came.
    std::optional<http::response<http::string_body>> request(http::verb verb, std::string target,
                                                             std::string body = {}) {
        if (!send(verb, std::move(target), std::move(body)))
            return std::nullopt;
        http::response<http::string_body> res;
        if (wait([&](auto done) { http::async_read(ws_.next_layer(), buffer_, res, done); }))
            return std::nullopt;
        return res;
    }

    beast::error_code upgrade(std::string const& target) {
        return wait([&](auto done) { ws_.async_handshake("localhost", target, done); });
    }

    bool write(std::string const& text) {
        return !wait([&](auto done) { ws_.async_write(net::buffer(text), done); });
    }

    /// A WebSocket ping and then `text`, written one after the other; true if both were
    /// written and the pong came.
    bool ping_then_write(std::string const& text) {
        bool ponged = false;
        ws_.control_callback([&](ws::frame_type kind, beast::string_view) {
            ponged = ponged || kind == ws::frame_type::pong;
        });
        bool pinged = false;
        ws_.async_ping({}, [&](beast::error_code) { pinged = true; });
        bool const wrote = write(text);
        run_until(ioc_, pinged, 1s);
        auto reply = read();
        ws_.control_callback();
        pending_ = std::move(reply);
        return wrote && ponged;
    }

    /// Closes the WebSocket with a close handshake.
    beast::error_code close() {
        return wait([&](auto done) { ws_.async_close(ws::close_code::normal, done); });
    }

    /// The next text message, answering Engine.IO pings; nullopt on error or timeout.
    std::optional<std::string> read(std::chrono::milliseconds timeout = 5s) {
        if (pending_)
            return std::exchange(pending_, std::nullopt);
        for (;;) {
            beast::flat_buffer b;
            if (wait([&](auto done) { ws_.async_read(b, done); }, timeout))
                return std::nullopt;
            auto m = beast::buffers_to_string(b.data());
            if (m != "2")
                return m;
            write("3");
        }
    }

    /// The close code of the WebSocket close the server sent.
    std::uint16_t close_code() const { return ws_.reason().code; }

    /// Ends the TLS session (close_notify), then the TCP connection.
    void shutdown() {
        wait([&](auto done) { ws_.next_layer().async_shutdown(done); }, 1s);
        beast::get_lowest_layer(ws_).close();
    }
    /// Drops the TCP connection without close_notify.
    void abort() { beast::get_lowest_layer(ws_).close(); }

private:
    template<class Start>
    beast::error_code wait(Start start, std::chrono::milliseconds timeout = 5s) {
        bool done = false;
        beast::error_code result;
        start([&](beast::error_code ec, auto&&...) {
            result = ec;
            done = true;
        });
        if (!run_until(ioc_, done, timeout)) {
            beast::get_lowest_layer(ws_).close(); // the operation ends with an error
            run_until(ioc_, done, 1s);
            return net::error::timed_out;
        }
        return result;
    }

    net::io_context ioc_;
    ssl::context ctx_;
    ws::stream<beast::ssl_stream<beast::tcp_stream>> ws_;
    beast::flat_buffer buffer_;
    std::optional<std::string> pending_; // read while a ping waited for its pong
};

/// One HTTP request on a TLS connection of its own; the answer's body, or "<none>".
std::string https(std::uint16_t port, http::verb verb, std::string const& target,
                  std::string body = {}) {
    tls_client c(port);
    if (c.handshake())
        return "<none>";
    auto res = c.request(verb, target, std::move(body));
    return res ? res->body() : "<none>";
}

/// Opens an Engine.IO session by polling; returns its id.
std::string open_polling(std::uint16_t port) {
    auto const open = https(port, http::verb::get, "/socket.io/?EIO=4&transport=polling");
    REQUIRE(open.substr(0, 1) == "0");
    return std::string(boost::json::parse(open.substr(1)).as_object().at("sid").as_string());
}

/// Opens a Socket.IO connection on a TLS WebSocket; returns its socket id.
std::string connect_websocket(tls_client& c) {
    REQUIRE(!c.handshake());
    REQUIRE(!c.upgrade("/socket.io/?EIO=4&transport=websocket"));
    REQUIRE(c.read().value_or("").substr(0, 1) == "0");
    REQUIRE(c.write("40"));
    auto const answer = c.read().value_or("");
    REQUIRE(answer.substr(0, 2) == "40");
    return std::string(boost::json::parse(answer.substr(2)).as_object().at("sid").as_string());
}

/// The servers of these tests: `echo` answers with its argument; `secure` with whether the
/// connection's handshake came over TLS; disconnect reasons are recorded.
void setup(roomcast::server<>& io, roomcast::test::record& reasons) {
    io.on("echo", [](roomcast::socket&, boost::json::value v) { return v; });
    io.on("secure", [](roomcast::socket& s) { return s.handshake().secure; });
    io.on("big", [](roomcast::socket& s, std::size_t n) { s.emit("big", std::string(n, 'b')); });
    io.on_disconnect(
        [&reasons](roomcast::socket&, std::string_view why) { reasons.add(std::string(why)); });
}

} // namespace

TEST_CASE("tls: a WebSocket over TLS carries acks and messages larger than a record and a batch") {
    roomcast::test::record reasons;
    roomcast::test::test_server server(tls_options(), [&](auto& io) { setup(io, reasons); });

    tls_client c(server.port());
    connect_websocket(c);
    REQUIRE(c.write("420[\"secure\"]"));
    CHECK(c.read() == "430[true]");
    // A ping with a large message right behind it: the pong comes, the message is answered.
    // (That the layer keeps decrypting while a pong is encrypted is tested on its own, below.)
    std::string const after(100 * 1024, 'a');
    CHECK(c.ping_then_write("429[\"echo\",\"" + after + "\"]"));
    CHECK(c.read() == "439[\"" + after + "\"]");
    for (std::size_t const n : {10, 20 * 1024, 600 * 1024}) {
        std::string const text(n, 'x');
        REQUIRE(c.write("421[\"echo\",\"" + text + "\"]"));
        CHECK(c.read() == "431[\"" + text + "\"]");
        REQUIRE(c.write("42[\"big\"," + std::to_string(n) + "]"));
        CHECK(c.read() == "42[\"big\",\"" + std::string(n, 'b') + "\"]");
    }
    c.shutdown();
    REQUIRE(eventually([&] { return reasons.size() == 1; }));
    CHECK(reasons.items() == std::vector<std::string>{"transport close"});
}

TEST_CASE("tls: broadcasts to several TLS WebSockets, written together, reach each in order") {
    // A broadcast makes every member's session ready to write in the same turn: their
    // encrypted bytes are written together, in one io_uring submission where the kernel has
    // it (else one `send` each). Then two members stop reading: their writes come back short
    // and then refused, and the rest of a record waits, in order, while the reader's go whole.
    auto const text = [](std::size_t i, std::size_t n) {
        return std::string(n, static_cast<char>('a' + i % 26));
    };
    auto const message = [&](std::size_t i, std::size_t n) {
        return "42[\"msg\"," + std::to_string(i) + ",\"" + text(i, n) + "\"]";
    };
    std::vector<std::size_t> const first{10, 20 * 1024, 10};
    constexpr std::size_t chunk = 16 * 1024;
    roomcast::test::record reasons;
    roomcast::test::test_server server(
        tls_options({.transport = {.max_queue_bytes = 64 * 1024 * 1024}}), [&](auto& io) {
            setup(io, reasons);
            io.on("join", [](roomcast::socket& s) {
                s.join("r");
                return true;
            });
            io.on("first", [&io, &first, &text](roomcast::socket&) {
                for (std::size_t i = 0; i < first.size(); ++i)
                    io.to("r").emit("msg", i, text(i, first[i]));
            });
            io.on("pub", [&io, &text](roomcast::socket&, std::size_t i) {
                io.to("r").emit("msg", i, text(i, chunk));
            });
        });

    std::vector<std::unique_ptr<tls_client>> members;
    for (int i = 0; i < 3; ++i) {
        members.push_back(std::make_unique<tls_client>(server.port()));
        connect_websocket(*members.back());
        REQUIRE(members.back()->write("420[\"join\"]"));
        REQUIRE(members.back()->read() == "430[true]");
    }
    auto& reader = *members.front();
    REQUIRE(reader.write("42[\"first\"]"));
    for (auto& m : members)
        for (std::size_t i = 0; i < first.size(); ++i)
            CHECK(m->read() == message(i, first[i]));

    // 600 messages of 16 KiB, about 10 MB: more than the kernel's buffers hold for a member
    // that does not read.
    std::size_t const count = 600;
    for (std::size_t i = 0; i < count; ++i) {
        REQUIRE(reader.write("42[\"pub\"," + std::to_string(i) + "]"));
        REQUIRE(reader.read() == message(i, chunk));
    }
    for (std::size_t m = 1; m < members.size(); ++m)
        for (std::size_t i = 0; i < count; ++i)
            REQUIRE(members[m]->read() == message(i, chunk));
    for (auto& m : members)
        m->shutdown();
    REQUIRE(eventually([&] { return reasons.size() == members.size(); }));
    for (auto const& r : reasons.items())
        CHECK(r == "transport close");
}

TEST_CASE("tls: polling over https, then the upgrade to a TLS WebSocket on another shard") {
    roomcast::test::record reasons;
    roomcast::test::test_server server(
        tls_options(), [&](auto& io) { setup(io, reasons); }, 2);

    auto const port = server.port();
    for (int round = 0; round < 4; ++round) {
        auto const sid = open_polling(port);
        auto const path = "/socket.io/?EIO=4&transport=polling&sid=" + sid;
        REQUIRE(https(port, http::verb::post, path, "40") == "ok");
        REQUIRE(https(port, http::verb::get, path).substr(0, 2) == "40");
        REQUIRE(https(port, http::verb::post, path, "420[\"secure\"]") == "ok");
        CHECK(https(port, http::verb::get, path) == "430[true]");

        // Connections are spread round robin: this sixth one of the round is accepted by the
        // shard that did not accept the first, where the session lives.
        tls_client upgraded(server.port());
        REQUIRE(!upgraded.handshake());
        REQUIRE(!upgraded.upgrade("/socket.io/?EIO=4&transport=websocket&sid=" + sid));
        REQUIRE(upgraded.write("2probe"));
        REQUIRE(upgraded.read() == "3probe");
        REQUIRE(upgraded.write("5"));
        REQUIRE(upgraded.write("421[\"echo\",\"over the upgrade\"]"));
        CHECK(upgraded.read() == "431[\"over the upgrade\"]");
        upgraded.abort(); // no close_notify: the session ends as when TCP drops
        REQUIRE(eventually([&] { return reasons.size() == std::size_t(round + 1); }));
    }
    for (auto const& r : reasons.items())
        CHECK(r == "transport close");

    // A probe WebSocket that closes (a page left during its upgrade): polling goes on.
    auto const sid = open_polling(port);
    auto const path = "/socket.io/?EIO=4&transport=polling&sid=" + sid;
    REQUIRE(https(port, http::verb::post, path, "40") == "ok");
    REQUIRE(https(port, http::verb::get, path).substr(0, 2) == "40");
    {
        tls_client probe(port);
        REQUIRE(!probe.handshake());
        REQUIRE(!probe.upgrade("/socket.io/?EIO=4&transport=websocket&sid=" + sid));
        REQUIRE(probe.write("2probe"));
        REQUIRE(probe.read() == "3probe");
        probe.close();
    }
    REQUIRE(https(port, http::verb::post, path, "421[\"echo\",\"still polling\"]") == "ok");
    CHECK(https(port, http::verb::get, path) == "431[\"still polling\"]");
}

TEST_CASE("tls: a client that does not trust the certificate is refused by its own check") {
    roomcast::test::record reasons;
    roomcast::test::test_server server(tls_options(), [&](auto& io) { setup(io, reasons); });

    net::io_context ioc;
    ssl::context untrusting(ssl::context::tls_client);
    untrusting.set_verify_mode(ssl::verify_peer); // no authority added
    beast::ssl_stream<beast::tcp_stream> s(ioc, untrusting);
    beast::get_lowest_layer(s).connect(
        tcp::endpoint(net::ip::make_address("127.0.0.1"), server.port()));
    bool done = false;
    beast::error_code result;
    s.async_handshake(ssl::stream_base::client, [&](beast::error_code ec) {
        result = ec;
        done = true;
    });
    REQUIRE(run_until(ioc, done));
    CHECK(result.category() == net::error::get_ssl_category());

    // The server goes on serving clients that do trust it.
    tls_client c(server.port());
    connect_websocket(c);
}

TEST_CASE("tls: what is not TLS, and a handshake that never ends, are dropped") {
    roomcast::test::record reasons;
    roomcast::test::test_server server(tls_options({.transport = {.handshake_timeout = 300ms}}),
                                       [&](auto& io) { setup(io, reasons); });

    // Plain HTTP on the TLS port: no answer, the connection is closed.
    auto const t0 = std::chrono::steady_clock::now();
    CHECK(roomcast::test::http_raw(server.port(),
                                   "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n"
                                   "Host: localhost\r\n\r\n",
                                   3s)
              .find("HTTP/1.1") == std::string::npos);
    CHECK(std::chrono::steady_clock::now() - t0 < 2s);

    // A TCP connection that says nothing is cut at handshake_timeout.
    auto const t1 = std::chrono::steady_clock::now();
    CHECK(roomcast::test::http_raw(server.port(), "", 3s).empty());
    CHECK(std::chrono::steady_clock::now() - t1 < 2s);

    tls_client c(server.port());
    connect_websocket(c);
}

TEST_CASE("tls: a parked GET whose client leaves ends the session at once") {
    roomcast::test::record reasons;
    roomcast::test::test_server server(tls_options(), [&](auto& io) { setup(io, reasons); });

    auto const port = server.port();
    auto const sid = open_polling(port);
    auto const path = "/socket.io/?EIO=4&transport=polling&sid=" + sid;
    REQUIRE(https(port, http::verb::post, path, "40") == "ok");
    REQUIRE(https(port, http::verb::get, path).substr(0, 2) == "40");

    // A GET that parks, from another connection that then leaves with close_notify.
    tls_client parked(server.port());
    REQUIRE(!parked.handshake());
    REQUIRE(parked.send(http::verb::get, path));
    parked.shutdown();
    REQUIRE(eventually([&] { return reasons.size() == 1; }, 3s));
    CHECK(reasons.items() == std::vector<std::string>{"transport close"});
}

TEST_CASE("tls: close() sends what is queued and a WebSocket close") {
    roomcast::test::record reasons;
    std::optional<roomcast::test::test_server> server;
    server.emplace(tls_options(), [&](auto& io) { setup(io, reasons); });

    tls_client c(server->port());
    connect_websocket(c);
    server->io().emit("bye", "now");
    server.reset(); // close() and join
    CHECK(c.read() == "42[\"bye\",\"now\"]");
    CHECK(!c.read(2s));
    CHECK(c.close_code() == 1000);
}

TEST_CASE("tls: a client that stops reading is disconnected past max_queue_bytes") {
    roomcast::test::record reasons;
    roomcast::test::test_server server(
        tls_options({.transport = {.max_queue_bytes = 1024 * 1024}}), [&](auto& io) {
            setup(io, reasons);
            // 64 KiB every millisecond, each from a turn of its own, so that the queue grows
            // only as far as the socket does not take it: 25 MB in all, far more than the
            // kernel buffers of a connection hold.
            io.on("flood", [&io, &reasons](roomcast::socket& s) -> net::awaitable<void> {
                auto const room = std::string(s.id());
                net::steady_timer t(co_await net::this_coro::executor);
                std::string const chunk(64 * 1024, 'f');
                for (int i = 0; i < 400 && reasons.size() == 0; ++i) {
                    io.to(room).emit("chunk", chunk);
                    t.expires_after(1ms);
                    co_await t.async_wait(net::use_awaitable);
                }
            });
        });

    tls_client c(server.port());
    connect_websocket(c);
    REQUIRE(c.write("42[\"flood\"]"));
    // The client reads nothing more: its queue passes the bound and it is let go.
    REQUIRE(eventually([&] { return reasons.size() == 1; }, 10s));
    CHECK(reasons.items() == std::vector<std::string>{"transport error"});

    tls_client other(server.port());
    connect_websocket(other);
}

TEST_CASE("tls: roomcast::tls refuses files it cannot use") {
    CHECK_THROWS_AS(roomcast::tls("/nonexistent/cert.pem", "/nonexistent/key.pem"),
                    boost::system::system_error);
}

TEST_CASE("tls: the layer decrypts on while its sink encrypts, and keeps every byte") {
    // A client over memory BIOs and the server's layer, with no socket: the bytes are handed
    // over by hand, so that one `receive` gets many records at once.
    auto const server_tls = server_tls_factory();
    auto layer = server_tls->make_layer();
    REQUIRE(layer);
    auto ctx = client_context();
    std::unique_ptr<SSL, decltype(&SSL_free)> client(SSL_new(ctx.native_handle()), &SSL_free);
    BIO* to_client = BIO_new(BIO_s_mem());
    BIO* from_client = BIO_new(BIO_s_mem());
    SSL_set_bio(client.get(), to_client, from_client);
    SSL_set_tlsext_host_name(client.get(), "localhost");
    SSL_set_connect_state(client.get());
    auto const drain = [](BIO* b) {
        std::string out(static_cast<std::size_t>(BIO_ctrl_pending(b)), '\0');
        if (!out.empty())
            BIO_read(b, out.data(), static_cast<int>(out.size()));
        return out;
    };
    std::array<char, 16 * 1024> scratch;
    std::string plain;
    int writes_inside = 0;
    std::string written_inside;
    auto keep = [&](std::span<char> p) {
        plain.append(p.data(), p.size());
        // What a pong does: encrypt while the rest of the bytes waits.
        ++writes_inside;
        return layer->send("pong", written_inside);
    };
    for (int i = 0; i < 10 && !layer->established(); ++i) {
        SSL_do_handshake(client.get());
        std::string reply;
        auto const bytes = drain(from_client);
        REQUIRE(layer->receive(bytes, scratch, roomcast::transport::make_sink(keep), reply) ==
                roomcast::transport::tls_layer::status::ok);
        BIO_write(to_client, reply.data(), static_cast<int>(reply.size()));
    }
    REQUIRE(layer->established());
    std::string sent;
    for (char c : std::string("abcdef")) {
        std::string const chunk(12 * 1024 + 7, c);
        REQUIRE(SSL_write(client.get(), chunk.data(), static_cast<int>(chunk.size())) > 0);
        sent += chunk;
    }
    auto const records = drain(from_client);
    std::string reply;
    CHECK(layer->receive(records, scratch, roomcast::transport::make_sink(keep), reply) ==
          roomcast::transport::tls_layer::status::ok);
    CHECK(writes_inside > 2);
    CHECK(plain.size() == sent.size());
    CHECK((plain == sent)); // not printed: 72 KiB
    // The client reads what the sink encrypted, in order.
    BIO_write(to_client, reply.data(), static_cast<int>(reply.size()));
    BIO_write(to_client, written_inside.data(), static_cast<int>(written_inside.size()));
    std::string pongs(4 * writes_inside, '\0');
    std::size_t n = 0;
    REQUIRE(SSL_read_ex(client.get(), pongs.data(), pongs.size(), &n) == 1);
    std::size_t total = n;
    while (total < pongs.size() &&
           SSL_read_ex(client.get(), pongs.data() + total, pongs.size() - total, &n) == 1)
        total += n;
    CHECK(total == pongs.size());
}
