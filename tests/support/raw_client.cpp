#include "raw_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <array>
#include <cctype>
#include <functional>

namespace roomcast::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ws = beast::websocket;

namespace {
/// Runs `ioc` until `done` or `timeout`; false on timeout.
bool run_until(net::io_context& ioc, bool const& done, std::chrono::milliseconds timeout) {
    ioc.restart();
    auto const deadline = std::chrono::steady_clock::now() + timeout;
    while (!done && std::chrono::steady_clock::now() < deadline)
        ioc.run_one_for(deadline - std::chrono::steady_clock::now());
    return done;
}

net::ip::tcp::endpoint loopback(std::uint16_t port) {
    return {net::ip::make_address("127.0.0.1"), port};
}
} // namespace

std::optional<http_answer> http_get(std::uint16_t port, std::string const& target) {
    net::io_context ioc;
    beast::tcp_stream s(ioc);
    s.expires_after(5s);
    bool done = false;
    std::optional<http_answer> out;
    http::request<http::empty_body> req(http::verb::get, target, 11);
    req.set(http::field::host, "127.0.0.1");
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    s.async_connect(loopback(port), [&](beast::error_code ec) {
        if (ec)
            return void(done = true);
        http::async_write(s, req, [&](beast::error_code ec2, std::size_t) {
            if (ec2)
                return void(done = true);
            http::async_read(s, buf, res, [&](beast::error_code ec3, std::size_t) {
                if (!ec3) {
                    http_answer a{res.result_int(), res.body(), {}};
                    for (auto const& f : res) {
                        std::string name(f.name_string());
                        for (auto& c : name)
                            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                        a.headers[name] = std::string(f.value());
                    }
                    out = std::move(a);
                }
                done = true;
            });
        });
    });
    run_until(ioc, done, 6s);
    return out;
}

std::string http_raw(std::uint16_t port, std::string const& bytes,
                     std::chrono::milliseconds timeout) {
    net::io_context ioc;
    net::ip::tcp::socket s(ioc);
    std::string out;
    bool done = false;
    std::array<char, 4096> chunk;
    std::function<void()> read_more = [&] {
        s.async_read_some(net::buffer(chunk), [&](beast::error_code ec, std::size_t n) {
            out.append(chunk.data(), n);
            if (ec)
                return void(done = true);
            read_more();
        });
    };
    s.async_connect(loopback(port), [&](beast::error_code ec) {
        if (ec)
            return void(done = true);
        net::async_write(s, net::buffer(bytes), [&](beast::error_code ec2, std::size_t) {
            if (ec2)
                return void(done = true);
            read_more();
        });
    });
    run_until(ioc, done, timeout);
    return out;
}

struct raw_client::impl {
    net::io_context ioc;
    ws::stream<beast::tcp_stream> ws{ioc};
    beast::flat_buffer buf;
    beast::error_code error;
    bool last_binary = false;
};

raw_client::raw_client()
    : impl_(std::make_unique<impl>()) {}
raw_client::~raw_client() = default;

boost::system::error_code raw_client::connect(std::uint16_t port, std::string const& target) {
    auto& i = *impl_;
    beast::error_code result = net::error::timed_out;
    bool done = false;
    beast::get_lowest_layer(i.ws).async_connect(loopback(port), [&](beast::error_code ec) {
        if (ec) {
            result = ec;
            done = true;
            return;
        }
        i.ws.async_handshake("127.0.0.1", target, [&](beast::error_code ec2) {
            result = ec2;
            done = true;
        });
    });
    run_until(i.ioc, done, 5s);
    return result;
}

std::optional<std::string> raw_client::read(std::chrono::milliseconds timeout) {
    auto& i = *impl_;
    bool done = false;
    std::optional<std::string> out;
    i.buf.clear();
    i.ws.async_read(i.buf, [&](beast::error_code ec, std::size_t) {
        i.error = ec;
        if (!ec)
            out = beast::buffers_to_string(i.buf.data());
        done = true;
    });
    if (!run_until(i.ioc, done, timeout)) {
        beast::get_lowest_layer(i.ws).close(); // abandons the read
        run_until(i.ioc, done, 1s);
        i.error = net::error::timed_out;
    }
    i.last_binary = i.ws.got_binary();
    return out;
}

std::optional<std::string> raw_client::read_packet(std::chrono::milliseconds timeout) {
    for (;;) {
        auto m = read(timeout);
        if (!m || *m != "2")
            return m;
        write("3");
    }
}

bool raw_client::write(std::string const& data, bool binary) {
    auto& i = *impl_;
    bool done = false;
    i.ws.binary(binary);
    i.ws.async_write(net::buffer(data), [&](beast::error_code ec, std::size_t) {
        i.error = ec;
        done = true;
    });
    return run_until(i.ioc, done, 5s) && !i.error;
}

void raw_client::close() {
    bool done = false;
    impl_->ws.async_close(ws::close_code::normal, [&](beast::error_code) { done = true; });
    run_until(impl_->ioc, done, 2s);
}

void raw_client::abort() {
    beast::get_lowest_layer(impl_->ws).close();
}

boost::system::error_code raw_client::error() const {
    return impl_->error;
}
std::uint16_t raw_client::close_code() const {
    return impl_->ws.reason().code;
}
bool raw_client::last_binary() const {
    return impl_->last_binary;
}

} // namespace roomcast::test
