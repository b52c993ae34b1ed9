// A minimal Engine.IO / Socket.IO client over Beast for in-process server tests: it sends
// and reads raw packets so that tests can see the wire exactly. Every operation is bounded
// in time; a timeout is reported as an error, never a hang.
#ifndef ROOMCAST_TESTS_RAW_CLIENT_HPP
#define ROOMCAST_TESTS_RAW_CLIENT_HPP

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace roomcast::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ws = beast::websocket;
using namespace std::chrono_literals;

/// Runs `ioc` until `done` or `timeout`; false on timeout.
inline bool run_until(net::io_context& ioc, bool const& done, std::chrono::milliseconds timeout) {
    ioc.restart();
    auto const deadline = std::chrono::steady_clock::now() + timeout;
    while (!done && std::chrono::steady_clock::now() < deadline)
        ioc.run_one_for(deadline - std::chrono::steady_clock::now());
    return done;
}

/// One HTTP request/response, bounded in time.
inline std::optional<http::response<http::string_body>> http_get(std::uint16_t port,
                                                                 std::string const& target) {
    net::io_context ioc;
    beast::tcp_stream s(ioc);
    s.expires_after(5s);
    bool done = false;
    std::optional<http::response<http::string_body>> out;
    http::request<http::empty_body> req(http::verb::get, target, 11);
    req.set(http::field::host, "127.0.0.1");
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    s.async_connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port),
                    [&](beast::error_code ec) {
                        if (ec)
                            return void(done = true);
                        http::async_write(s, req, [&](beast::error_code ec2, std::size_t) {
                            if (ec2)
                                return void(done = true);
                            http::async_read(s, buf, res, [&](beast::error_code ec3, std::size_t) {
                                if (!ec3)
                                    out = std::move(res);
                                done = true;
                            });
                        });
                    });
    run_until(ioc, done, 6s);
    return out;
}

class raw_client {
public:
    raw_client() : ws_(ioc_) {}

    /// Connects and completes the WebSocket handshake; returns the error, if any.
    beast::error_code connect(std::uint16_t port,
                              std::string target = "/socket.io/?EIO=4&transport=websocket") {
        beast::error_code result = net::error::timed_out;
        bool done = false;
        auto& tcp = beast::get_lowest_layer(ws_);
        tcp.async_connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port),
                          [&, target](beast::error_code ec) {
                              if (ec) {
                                  result = ec;
                                  done = true;
                                  return;
                              }
                              ws_.async_handshake("127.0.0.1", target, [&](beast::error_code ec2) {
                                  result = ec2;
                                  done = true;
                              });
                          });
        run_until(ioc_, done, 5s);
        return result;
    }

    /// The next frame's text (binary frames too; see `last_binary()`), or nullopt on error,
    /// close or timeout (see `error()`).
    std::optional<std::string> read(std::chrono::milliseconds timeout = 5s) {
        bool done = false;
        std::optional<std::string> out;
        buf_.clear();
        ws_.async_read(buf_, [&](beast::error_code ec, std::size_t) {
            error_ = ec;
            if (!ec)
                out = beast::buffers_to_string(buf_.data());
            done = true;
        });
        if (!run_until(ioc_, done, timeout)) {
            error_ = net::error::timed_out;
            beast::get_lowest_layer(ws_).close(); // abandons the read
            run_until(ioc_, done, 1s);
            error_ = net::error::timed_out;
        }
        last_binary_ = ws_.got_binary();
        return out;
    }

    /// Reads frames, answering pings, until one that is not a ping.
    std::optional<std::string> read_packet(std::chrono::milliseconds timeout = 5s) {
        for (;;) {
            auto m = read(timeout);
            if (!m || *m != "2")
                return m;
            write("3");
        }
    }

    bool write(std::string const& data, bool binary = false) {
        bool done = false;
        ws_.binary(binary);
        ws_.async_write(net::buffer(data), [&](beast::error_code ec, std::size_t) {
            error_ = ec;
            done = true;
        });
        return run_until(ioc_, done, 5s) && !error_;
    }

    void close() {
        bool done = false;
        ws_.async_close(ws::close_code::normal, [&](beast::error_code) { done = true; });
        run_until(ioc_, done, 2s);
    }

    /// Drops the TCP connection without a close handshake.
    void abort() { beast::get_lowest_layer(ws_).close(); }

    beast::error_code error() const { return error_; }
    ws::close_reason close_reason() const { return ws_.reason(); }
    bool last_binary() const { return last_binary_; }

private:
    net::io_context ioc_;
    ws::stream<beast::tcp_stream> ws_;
    beast::flat_buffer buf_;
    beast::error_code error_;
    bool last_binary_ = false;
};

} // namespace roomcast::test

#endif
