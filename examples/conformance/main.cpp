// roomcast conformance: the server the official Engine.IO v4 and Socket.IO v5 protocol test
// suites (socketio/socket.io, docs/engine.io-protocol/v4-test-suite and
// docs/socket.io-protocol/v5-test-suite) expect.
//
//   conformance [--engineio] [--port 3000] [--ping-interval 300] [--ping-timeout 200]
//               [--max-payload 1000000] [--connect-timeout 1000]
//
// --engineio: a plain Engine.IO server on /engine.io/ that sends every message back
// unchanged, text or binary. It uses roomcast's transport layer alone, without Socket.IO.
//
// Otherwise: a Socket.IO server on /socket.io/ with the namespaces "/" and "/custom". Each
// connection gets `auth` with its auth payload ({} if none); on "/", `message` is answered
// with `message-back` carrying the same arguments (binary included), and
// `message-with-ack` is acknowledged with the same arguments.
//
// Durations are in milliseconds. SIGINT or SIGTERM stops it.

#include <roomcast/roomcast.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>

namespace {

struct settings {
    bool engineio = false;
    std::uint16_t port = 3000;
    roomcast::options server{
        .transport = {.ping_interval = std::chrono::milliseconds(300),
                      .ping_timeout = std::chrono::milliseconds(200),
                      .max_payload = 1'000'000},
        .connect_timeout = std::chrono::milliseconds(1000),
    };
};

int usage(char const* self) {
    std::cerr << "usage: " << self
              << " [--engineio] [--port N] [--ping-interval MS] [--ping-timeout MS]"
                 " [--max-payload BYTES] [--connect-timeout MS]\n";
    return 2;
}

/// Sends every message of one Engine.IO session back to it.
class echo final : public roomcast::transport::connection_handler {
public:
    explicit echo(std::weak_ptr<roomcast::transport::connection> c)
        : conn_(std::move(c)) {}

    void on_message(std::string_view data, bool binary) override {
        auto c = conn_.lock();
        if (!c)
            return;
        auto m = std::make_shared<roomcast::transport::message>();
        m->binary = binary;
        if (!binary)
            m->data = "4"; // the Engine.IO message type; binary frames carry none
        m->data.append(data);
        c->send(std::move(m));
    }
    void on_close(std::string_view) override {}

private:
    std::weak_ptr<roomcast::transport::connection> conn_; // the connection owns its handler
};

int run_engineio(settings const& s) {
    boost::asio::io_context ctx(1);
    auto topt = s.server.transport;
    topt.path = "/engine.io/";
    roomcast::transport::websocket_listener listener(
        ctx, {boost::asio::ip::make_address(s.server.address), s.port}, topt);
    listener.start([&] { return ctx.get_executor(); },
                   [](std::shared_ptr<roomcast::transport::connection> c) {
                       c->set_handler(std::make_shared<echo>(c));
                   });
    boost::asio::signal_set signals(ctx, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code, int) { ctx.stop(); });
    std::cout << "conformance (Engine.IO echo) listening on port " << listener.port() << std::endl;
    ctx.run();
    return 0;
}

int run_socketio(settings s) {
    s.server.port = s.port;
    roomcast::server<> io(s.server);

    auto const greet = [](roomcast::socket& sock) { sock.emit("auth", sock.handshake().auth); };
    io.on_connection(greet);
    io.of("/custom").on_connection(greet);

    io.on("message", [](roomcast::socket& sock, roomcast::arguments const& args) {
        sock.emit("message-back", args);
    });
    io.on("message-with-ack",
          [](roomcast::socket&, roomcast::arguments args) -> roomcast::arguments { return args; });

    std::cout << "conformance (Socket.IO) listening on port " << io.port() << std::endl;
    io.run();
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    settings s;
    for (int i = 1; i < argc; ++i) {
        std::string_view const arg = argv[i];
        if (arg == "--engineio") {
            s.engineio = true;
            continue;
        }
        if (i + 1 == argc)
            return usage(argv[0]);
        char* end = nullptr;
        auto const n = std::strtoull(argv[++i], &end, 10);
        if (*end != '\0')
            return usage(argv[0]);
        auto const ms = std::chrono::milliseconds(n);
        if (arg == "--port" && n <= 65535)
            s.port = static_cast<std::uint16_t>(n);
        else if (arg == "--ping-interval" && n > 0)
            s.server.transport.ping_interval = ms;
        else if (arg == "--ping-timeout" && n > 0)
            s.server.transport.ping_timeout = ms;
        else if (arg == "--max-payload" && n > 0)
            s.server.transport.max_payload = n;
        else if (arg == "--connect-timeout" && n > 0)
            s.server.connect_timeout = ms;
        else
            return usage(argv[0]);
    }
    try {
        return s.engineio ? run_engineio(s) : run_socketio(s);
    } catch (std::exception const& e) {
        std::cerr << "conformance: " << e.what() << '\n';
        return 1;
    }
}
