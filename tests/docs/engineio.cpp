// Engine.IO alone: sessions, heartbeat and bounded write queues without Socket.IO's packets.
// An echo server for engine.io-client: every message goes back to its sender.
#include <roomcast/transport/websocket.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

class echo final : public roomcast::transport::connection_handler {
public:
    explicit echo(std::weak_ptr<roomcast::transport::connection> c)
        : conn_(std::move(c)) {}

    // Called on the connection's executor; `data` is a message without Engine.IO's "4".
    void on_message(std::string_view data, bool binary) override {
        auto const c = conn_.lock();
        if (!c)
            return;
        auto m = std::make_shared<roomcast::transport::message>();
        m->binary = binary;
        m->data = binary ? std::string(data) : "4" + std::string(data); // "4": a message
        c->send(std::move(m)); // queued, dropped (volatile and busy) or closed
    }
    void on_close(std::string_view) override {}

private:
    std::weak_ptr<roomcast::transport::connection> conn_; // the connection owns its handler
};

int run_engineio_echo(std::uint16_t port) {
    boost::asio::io_context ctx;
    roomcast::transport::options const opt{.path = "/engine.io/"}; // outlives the listener
    roomcast::transport::websocket_listener listener(ctx, {boost::asio::ip::tcp::v4(), port}, opt);
    listener.start([&] { return ctx.get_executor(); },
                   [](std::shared_ptr<roomcast::transport::connection> c) {
                       c->set_handler(std::make_shared<echo>(c));
                   });
    boost::asio::signal_set signals(ctx, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code, int) { ctx.stop(); });
    ctx.run();
    return 0;
}
