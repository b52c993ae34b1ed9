// Runs a roomcast server on background threads for the duration of a test.
#ifndef ROOMCAST_TESTS_TEST_SERVER_HPP
#define ROOMCAST_TESTS_TEST_SERVER_HPP

#include <roomcast/roomcast.hpp>

#include <boost/system/system_error.hpp>

#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace roomcast::test {

/// Options for a test: loopback, a free port, no signal handling, quiet logs.
inline roomcast::options test_options(roomcast::options o = {}) {
    o.address = "127.0.0.1";
    o.port = 0;
    o.handle_signals = false;
    if (!o.log)
        o.log = [](roomcast::log_level, std::string_view) {};
    return o;
}

/// A server started by the constructor (after `setup` registered its handlers) and closed
/// and joined by the destructor.
class test_server {
public:
    test_server(roomcast::options o, std::function<void(roomcast::server<>&)> const& setup,
                std::size_t threads = 1)
        : io_(test_options(std::move(o))) {
        setup(io_);
        thread_ = std::thread([this, threads] { io_.run(threads); });
    }
    ~test_server() {
        io_.close();
        thread_.join();
    }
    std::uint16_t port() const { return io_.port(); }
    roomcast::server<>& io() { return io_; }

private:
    roomcast::server<> io_;
    std::thread thread_;
};

/// Waits until `pred()` holds, polling; false after `timeout`.
template<class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    auto const deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return true;
}

/// The rooms of namespace `nsp`, all shards together, waited for; it throws if all_rooms fails
/// or takes over 5 s. A callback, not use_future: g++ 12 warns of an uninitialized variable
/// inside Asio's use_future at -O1.
inline std::vector<roomcast::room_info> rooms_of(roomcast::server<>& io,
                                                 std::string_view nsp = "/") {
    auto rooms = std::make_shared<std::promise<std::vector<roomcast::room_info>>>();
    auto f = rooms->get_future();
    io.of(nsp).all_rooms([rooms](boost::system::error_code ec, std::vector<roomcast::room_info> r) {
        if (ec)
            rooms->set_exception(std::make_exception_ptr(boost::system::system_error(ec)));
        else
            rooms->set_value(std::move(r));
    });
    if (f.wait_for(std::chrono::seconds(5)) != std::future_status::ready)
        throw std::runtime_error("all_rooms did not answer within 5 s");
    return f.get();
}

/// A thread-safe log of strings recorded by handlers on server threads.
class record {
public:
    void add(std::string s) {
        std::lock_guard lock(m_);
        items_.push_back(std::move(s));
    }
    std::vector<std::string> items() const {
        std::lock_guard lock(m_);
        return items_;
    }
    std::size_t size() const {
        std::lock_guard lock(m_);
        return items_.size();
    }

private:
    mutable std::mutex m_;
    std::vector<std::string> items_;
};

} // namespace roomcast::test

#endif
