// A minimal Engine.IO / Socket.IO client for in-process server tests: it sends and reads raw
// packets so that tests see the wire exactly. Every operation is bounded in time; a timeout
// is reported as an error, never a hang. Compiled once, in roomcast_test_support.
#ifndef ROOMCAST_TESTS_RAW_CLIENT_HPP
#define ROOMCAST_TESTS_RAW_CLIENT_HPP

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace roomcast::test {

using namespace std::chrono_literals;

/// What an HTTP request got back.
struct http_answer {
    unsigned status = 0;
    std::string body;
    std::map<std::string, std::string> headers; ///< names lowercased
};

/// One HTTP GET, bounded in time; nullopt if no answer came.
std::optional<http_answer> http_get(std::uint16_t port, std::string const& target);

/// Sends `bytes` on a fresh connection and returns all that comes back until the server
/// closes it or `timeout` passes (for keep-alive and malformed requests).
std::string http_raw(std::uint16_t port, std::string const& bytes,
                     std::chrono::milliseconds timeout = 5s);

class raw_client {
public:
    raw_client();
    ~raw_client();

    /// Connects and completes the WebSocket handshake; returns the error, if any.
    boost::system::error_code
    connect(std::uint16_t port,
            std::string const& target = "/socket.io/?EIO=4&transport=websocket");

    /// The next frame (text or binary, see `last_binary()`), or nullopt on error, close or
    /// timeout (see `error()`).
    std::optional<std::string> read(std::chrono::milliseconds timeout = 5s);

    /// Reads frames, answering pings, until one that is not a ping.
    std::optional<std::string> read_packet(std::chrono::milliseconds timeout = 5s);

    bool write(std::string const& data, bool binary = false);

    /// Sends a close frame and waits briefly for the answer.
    void close();
    /// Drops the TCP connection without a close handshake.
    void abort();

    boost::system::error_code error() const;
    /// The close code the server sent (0 if none).
    std::uint16_t close_code() const;
    bool last_binary() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace roomcast::test

#endif
