// A process without clients (a cron job, a game backend) that sends into a cluster: what it
// emits reaches the clients of every server on the same Redis and key.
#include <roomcast/redis_emitter.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <string>
#include <utility>

// 0 once Redis has taken every message; 1 if it could not be reached within `deadline`.
int announce(roomcast::redis_options redis, std::string const& text,
             std::chrono::milliseconds deadline) {
    boost::asio::io_context ctx;
    roomcast::redis_emitter em(ctx.get_executor(), std::move(redis));

    em.to("lobby").emit("announcement", text);          // room "lobby" of "/", on every server
    em.of("/admin").emit("audit", "announcement sent"); // every socket of "/admin"
    em.in("banned").disconnect_sockets(true);           // their whole connections
    em.server_side_emit("bansChanged");                 // every server's handler

    // What is emitted waits for the connection; flush completes once Redis has taken it all.
    int status = 1;
    boost::asio::steady_timer timer(ctx, deadline);
    timer.async_wait([&](boost::system::error_code ec) {
        if (!ec)
            em.close(); // Redis unreachable: give up; the flush completes with an error
    });
    em.flush([&](boost::system::error_code ec) {
        status = ec ? 1 : 0;
        timer.cancel();
        em.close();
    });
    ctx.run(); // returns once the emitter is closed and the timer is done
    return status;
}
