// A TCP connection that writes exactly the bytes it is given, for tests of clients no client
// library would be: half requests, stalled readers, hand-made frames (see ws_frames.hpp).
#ifndef ROOMCAST_TESTS_RAW_TCP_HPP
#define ROOMCAST_TESTS_RAW_TCP_HPP

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>

namespace roomcast::test {

/// A TCP connection to the server that writes exactly the bytes it is given.
class raw_tcp {
public:
    /// Connects to 127.0.0.1:`port`; a `receive_buffer` makes the kernel hold little for a
    /// client that does not read.
    explicit raw_tcp(std::uint16_t port, std::optional<int> receive_buffer = std::nullopt) {
        socket_.open(boost::asio::ip::tcp::v4());
        if (receive_buffer)
            socket_.set_option(boost::asio::socket_base::receive_buffer_size(*receive_buffer));
        socket_.connect({boost::asio::ip::make_address("127.0.0.1"), port});
    }

    /// Sends a WebSocket handshake for a new Engine.IO session; true on 101.
    bool upgrade() {
        write("GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\n"
              "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
        std::string response;
        boost::system::error_code ec;
        auto const n =
            boost::asio::read_until(socket_, boost::asio::dynamic_buffer(response), "\r\n\r\n", ec);
        pending_ = response.substr(n); // frames that came with the answer
        return !ec && response.substr(0, 12) == "HTTP/1.1 101";
    }

    bool write(std::string const& bytes) {
        boost::system::error_code ec;
        boost::asio::write(socket_, boost::asio::buffer(bytes), ec);
        return !ec;
    }

    /// Reads until what the server sent holds `text`; false if it did not within `timeout`
    /// (or closed the connection first). Enough for short frames, whose payload the server
    /// sends unmasked and whole.
    bool read_until(std::string const& text, std::chrono::milliseconds timeout) {
        auto const found = [&] { return pending_.find(text) != std::string::npos; };
        return found() || (read_into(pending_, timeout, found) && found());
    }

    /// Everything the server sends until it closes the connection; nullopt if it has not
    /// closed it within `timeout`.
    std::optional<std::string> read_to_end(std::chrono::milliseconds timeout) {
        std::string out = std::exchange(pending_, {});
        if (!read_into(out, timeout, [] { return false; }))
            return std::nullopt;
        return out;
    }

    /// Ends both directions (a write blocked in another thread returns).
    void shutdown() {
        boost::system::error_code ignored;
        socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    }

    /// Drops the connection with a reset.
    void abort() {
        socket_.set_option(boost::asio::socket_base::linger(true, 0));
        socket_.close();
    }

private:
    /// Appends what the server sends to `out` until `enough()` or the end of the connection;
    /// false if neither came within `timeout`.
    bool read_into(std::string& out, std::chrono::milliseconds timeout,
                   std::function<bool()> const& enough) {
        std::array<char, 4096> buf;
        std::function<void()> next = [&] {
            socket_.async_read_some(boost::asio::buffer(buf),
                                    [&](boost::system::error_code ec, std::size_t n) {
                                        out.append(buf.data(), n);
                                        if (!ec && !enough())
                                            next();
                                    });
        };
        next();
        ctx_.restart();
        ctx_.run_for(timeout);
        if (ctx_.stopped()) // out of work: the last read ended it
            return true;
        socket_.cancel();
        ctx_.restart();
        ctx_.run();
        return false;
    }

    boost::asio::io_context ctx_;
    boost::asio::ip::tcp::socket socket_{ctx_};
    std::string pending_;
};

} // namespace roomcast::test

#endif
