// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_TRANSPORT_CONNECTION_HPP
#define ROOMCAST_TRANSPORT_CONNECTION_HPP

#include <roomcast/transport/options.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace roomcast::transport {

/// One outgoing Engine.IO packet, encoded once and shared, immutable, by every connection it
/// is queued on (a broadcast queues the same message for all its recipients).
struct message {
    std::string data; ///< the Engine.IO packet text ("4..."), or the bytes of a binary message
    bool binary = false;
    /// Binary frames that follow `data` at once, in order: the attachments of a Socket.IO
    /// binary packet. They share `data`'s place in the queue, so nothing comes between them.
    std::vector<std::string> attachments = {};

    /// Bytes this message holds in a write queue.
    std::size_t size() const noexcept {
        auto n = data.size();
        for (auto const& a : attachments)
            n += a.size();
        return n;
    }
};
using message_ptr = std::shared_ptr<message const>;

/// What `connection::send` did with a message.
enum class send_status {
    queued,  ///< will be written in order
    dropped, ///< a volatile message the connection was not ready for, or the queue is full
    closed,  ///< the connection is closing or closed
};

/// What the layer above receives from a connection. Called on the connection's executor.
class connection_handler {
public:
    virtual ~connection_handler() = default;
    /// An Engine.IO message: text (without the leading '4') or binary.
    virtual void on_message(std::string_view data, bool binary) = 0;
    /// The connection closed; called exactly once, never from inside `send` or `close`.
    virtual void on_close(std::string_view reason) = 0;
};

/// One Engine.IO session. Every member function must be called on `get_executor()`; a
/// caller on another thread posts there first.
class connection {
public:
    virtual ~connection() = default;

    /// The Engine.IO session id (unguessable, url-safe).
    std::string const& id() const noexcept { return id_; }
    /// The HTTP request that opened the session; empty once taken.
    request_info const& request() const noexcept {
        static request_info const taken;
        return request_ ? *request_ : taken;
    }
    /// Hands the request over to the layer above, which keeps it (for Socket.IO handshakes)
    /// so that a connection does not hold it twice.
    request_info take_request() {
        auto r = std::move(request_);
        return r ? std::move(*r) : request_info{};
    }
    /// The peer's IP address.
    std::string const& address() const noexcept { return address_; }

    virtual boost::asio::any_io_executor get_executor() = 0;

    /// Queues `m`; what is queued in one turn of the executor's event loop is written
    /// together. A volatile message is dropped while the connection cannot write (the
    /// kernel's buffer for it is full, or, over polling, no GET is waiting).
    /// Past `max_queue_bytes` the connection is closed as a slow consumer.
    virtual send_status send(message_ptr m, bool is_volatile = false) = 0;

    /// Writes what is queued, then closes. `on_close(reason)` follows (posted).
    virtual void close(std::string_view reason) = 0;

    /// Sets who receives messages and the close notification.
    void set_handler(std::shared_ptr<connection_handler> h) { handler_ = std::move(h); }

protected:
    connection(std::string id, request_info req)
        : id_(std::move(id))
        , address_(req.address)
        , request_(std::make_unique<request_info>(std::move(req))) {}

    std::shared_ptr<connection_handler> handler_;

private:
    std::string id_;
    std::string address_;
    std::unique_ptr<request_info> request_; // until the layer above takes it
};

} // namespace roomcast::transport

#endif
