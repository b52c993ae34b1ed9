// roomcast as one more service on a host program's io_context, which runs the host's own
// timers too, on one thread: the host's code and the handlers never run at the same time.
#include <roomcast/roomcast.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <functional>
#include <string>

int run_host(std::uint16_t port) {
    boost::asio::io_context ctx;
    roomcast::server<> io(ctx, {.port = port}); // accepts once the host runs ctx
    io.on("join", [](roomcast::socket& s, std::string const& room) { s.join(room); });

    boost::asio::steady_timer autosave(ctx);
    std::function<void()> schedule = [&] {
        autosave.expires_after(std::chrono::minutes(1));
        autosave.async_wait([&](boost::system::error_code ec) {
            if (ec)
                return;
            io.emit("saved");
            schedule();
        });
    };
    schedule();

    // The host handles signals: options::handle_signals is for servers that run themselves.
    boost::asio::signal_set signals(ctx, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code, int) {
        autosave.cancel();
        io.close(); // closes every connection; ctx.run() returns once nothing is left
    });
    ctx.run();
    return 0; // io is destroyed after the context stopped and before the context
}
