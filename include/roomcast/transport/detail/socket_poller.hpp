// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_TRANSPORT_DETAIL_SOCKET_POLLER_HPP
#define ROOMCAST_TRANSPORT_DETAIL_SOCKET_POLLER_HPP

// How a shard learns that its WebSockets can be read or written.
//
// Asio's reactor costs a WebSocket two things that matter at scale. Each read it starts first
// tries a `recv`, which finds nothing when the last read drained the socket: in a request and
// answer exchange every message pays a failed syscall. And each idle connection holds a
// pending operation and a reactor entry. On Linux a shard therefore keeps an epoll set of its
// own for its WebSockets, edge-triggered for input and output, that its io_context waits on
// as one descriptor: a short read ends an edge, one wake-up serves every ready socket, and an
// idle socket costs a slot. Elsewhere each socket waits through Asio.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#if defined(__linux__) && !defined(ROOMCAST_NO_EPOLL)
#define ROOMCAST_EPOLL 1
#include <boost/asio/posix/stream_descriptor.hpp>

#include <array>
#include <cerrno>

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

namespace roomcast::transport::detail {

/// Who a socket_poller tells that its socket is ready.
class poll_target {
public:
    static constexpr std::uint32_t readable = 1; // data, the end of the stream, or an error
    static constexpr std::uint32_t writable = 2; // room in the send buffer, or an error
    static constexpr std::uint32_t hangup = 4;   // the peer ended its stream, or an error

    virtual void on_ready(std::uint32_t events) = 0;

protected:
    ~poll_target() = default;
};

#if defined(ROOMCAST_EPOLL)

/// One shard's epoll set. Touched only from the thread that runs the shard's io_context.
class socket_poller {
public:
    using key = std::uint64_t; // a slot's index, and its generation in the high half

    socket_poller() = default;
    socket_poller(socket_poller const&) = delete;
    socket_poller& operator=(socket_poller const&) = delete;

    /// Watches `fd` for input and output; `owner` is kept alive while it is watched, as a
    /// pending operation keeps its handler. `ex` is the shard's.
    key watch(int fd, std::shared_ptr<poll_target> owner, boost::asio::any_io_executor const& ex,
              boost::system::error_code& ec) {
        if (!open(ex, ec))
            return 0;
        std::uint32_t index;
        if (free_.empty()) {
            index = static_cast<std::uint32_t>(slots_.size());
            slots_.emplace_back();
        } else {
            index = free_.back();
            free_.pop_back();
        }
        auto& s = slots_[index];
        key const k = (std::uint64_t{s.generation} << 32) | index;
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
        ev.data.u64 = k;
        if (::epoll_ctl(wake_->native_handle(), EPOLL_CTL_ADD, fd, &ev) != 0) {
            ec.assign(errno, boost::system::system_category());
            free_.push_back(index);
            return 0;
        }
        s.owner = std::move(owner);
        ++watched_;
        arm();
        return k;
    }

    /// Stops telling the owner of `k`, whose socket is about to close. The owner is let go
    /// from a fresh call stack: this may run inside one of its own calls.
    void forget(key k) noexcept {
        auto const index = static_cast<std::uint32_t>(k);
        if (stopped_ || index >= slots_.size() || slots_[index].generation != (k >> 32))
            return;
        auto& s = slots_[index];
        ++s.generation; // events of this wake-up still on their way for it are stale
        if (auto owner = std::move(s.owner))
            boost::asio::post(wake_->get_executor(), [owner = std::move(owner)] {});
        free_.push_back(index);
        if (--watched_ == 0 && armed_)
            wake_->cancel(); // nothing to wait for: the io_context may run out of work
    }

    /// The io_context shuts down: every owner is let go.
    void shutdown() noexcept {
        stopped_ = true;
        wake_.reset();
        auto slots = std::move(slots_);
        slots.clear(); // owners' sockets close now; `stopped_` makes their forget() a no-op
    }

private:
    struct slot {
        std::shared_ptr<poll_target> owner;
        std::uint32_t generation = 0;
    };

    bool open(boost::asio::any_io_executor const& ex, boost::system::error_code& ec) {
        if (stopped_) {
            ec = boost::asio::error::operation_aborted;
            return false;
        }
        if (wake_)
            return true;
        int const fd = ::epoll_create1(EPOLL_CLOEXEC);
        if (fd < 0) {
            ec.assign(errno, boost::system::system_category());
            return false;
        }
        wake_.emplace(ex);
        wake_->assign(fd, ec); // it owns the set from now on
        if (ec) {
            ::close(fd);
            wake_.reset();
            return false;
        }
        return true;
    }

    void arm() {
        if (armed_ || watched_ == 0)
            return;
        armed_ = true;
        wake_->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                          [this](boost::system::error_code ec) {
                              armed_ = false;
                              if (stopped_)
                                  return;
                              if (!ec)
                                  dispatch();
                              arm();
                          });
    }

    /// Tells each ready socket's owner. Waiting on the set again (arm) reports it ready at
    /// once when events are left: a busy set takes its turn with the shard's other work.
    void dispatch() {
        std::array<epoll_event, 256> ev;
        int n;
        do
            n = ::epoll_wait(wake_->native_handle(), ev.data(), static_cast<int>(ev.size()), 0);
        while (n < 0 && errno == EINTR);
        for (int i = 0; i < n; ++i) {
            auto const k = ev[i].data.u64;
            auto const index = static_cast<std::uint32_t>(k);
            if (index >= slots_.size() || slots_[index].generation != (k >> 32))
                continue;
            auto const owner = slots_[index].owner; // alive through its call, whatever it does
            std::uint32_t what = 0;
            if (ev[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
                what |= poll_target::readable;
            if (ev[i].events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
                what |= poll_target::writable;
            if (ev[i].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
                what |= poll_target::hangup;
            owner->on_ready(what);
            if (stopped_)
                return;
        }
    }

    std::optional<boost::asio::posix::stream_descriptor> wake_; // the epoll set, for Asio
    std::vector<slot> slots_;
    std::vector<std::uint32_t> free_;
    std::size_t watched_ = 0;
    bool armed_ = false;
    bool stopped_ = false;
};

/// A WebSocket's socket while a socket_poller watches it: non-blocking reads and writes
/// straight on the descriptor. Closing it stops the watch.
class polled_socket {
public:
    polled_socket(boost::asio::ip::tcp::socket s, std::shared_ptr<poll_target> owner,
                  socket_poller& poller, boost::asio::any_io_executor const& ex,
                  boost::system::error_code& ec) {
        s.non_blocking(true, ec);
        if (ec)
            return;
        fd_ = s.release(ec); // out of Asio's reactor
        if (ec)
            return;
        key_ = poller.watch(fd_, std::move(owner), ex, ec);
        if (ec) {
            ::close(fd_);
            fd_ = -1;
            return;
        }
        poller_ = &poller;
    }
    polled_socket(polled_socket const&) = delete;
    polled_socket& operator=(polled_socket const&) = delete;
    ~polled_socket() { close(); }

    /// What the kernel has, up to `size`; 0 and `eof` at the end of the stream, 0 and
    /// `would_block` when it has nothing.
    std::size_t read_some(void* data, std::size_t size, boost::system::error_code& ec) noexcept {
        ssize_t n;
        do
            n = ::recv(fd_, data, size, 0);
        while (n < 0 && errno == EINTR);
        return result(n, size != 0, ec);
    }

    /// What the kernel takes of `size` bytes; 0 and `would_block` when it has no room.
    std::size_t write_some(void const* data, std::size_t size,
                           boost::system::error_code& ec) noexcept {
        ssize_t n;
        do
            n = ::send(fd_, data, size, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        return result(n, false, ec);
    }

    /// The descriptor, while open; -1 after.
    int native_handle() const noexcept { return fd_; }

    void shutdown(boost::asio::socket_base::shutdown_type what) noexcept {
        if (fd_ >= 0)
            ::shutdown(fd_, static_cast<int>(what));
    }

    void close() noexcept {
        if (fd_ < 0)
            return;
        if (poller_)
            poller_->forget(key_);
        ::close(fd_);
        fd_ = -1;
    }

private:
    static std::size_t result(ssize_t n, bool zero_is_eof, boost::system::error_code& ec) {
        if (n > 0 || (n == 0 && !zero_is_eof)) {
            ec = {};
            return static_cast<std::size_t>(n);
        }
        if (n == 0)
            ec = boost::asio::error::eof;
        else if (errno == EAGAIN || errno == EWOULDBLOCK)
            ec = boost::asio::error::would_block;
        else
            ec.assign(errno, boost::system::system_category());
        return 0;
    }

    int fd_ = -1;
    socket_poller* poller_ = nullptr;
    socket_poller::key key_ = 0;
};

#else

/// Without epoll: nothing shared per shard.
class socket_poller {
public:
    void shutdown() noexcept {}
};

/// Without epoll: the socket stays Asio's and waits through its reactor, one wait at a time
/// for each direction, armed when a read comes up short or a write finds no room: the same
/// edges the epoll set reports. The pending wait keeps the owner alive.
class polled_socket {
public:
    polled_socket(boost::asio::ip::tcp::socket s, std::shared_ptr<poll_target> owner,
                  socket_poller&, boost::asio::any_io_executor const&,
                  boost::system::error_code& ec)
        : socket_(std::move(s))
        , state_(std::make_shared<state>()) {
        state_->owner = owner;
        socket_.non_blocking(true, ec);
        if (!ec)
            wait(socket_.wait_read, poll_target::readable);
    }
    polled_socket(polled_socket const&) = delete;
    polled_socket& operator=(polled_socket const&) = delete;
    ~polled_socket() { close(); }

    std::size_t read_some(void* data, std::size_t size, boost::system::error_code& ec) noexcept {
        auto const n = socket_.read_some(boost::asio::buffer(data, size), ec);
        if (n < size && (!ec || ec == boost::asio::error::would_block))
            wait(socket_.wait_read, poll_target::readable); // drained: the next edge
        return n;
    }

    std::size_t write_some(void const* data, std::size_t size,
                           boost::system::error_code& ec) noexcept {
        auto const n = socket_.write_some(boost::asio::buffer(data, size), ec);
        if (n < size && (!ec || ec == boost::asio::error::would_block))
            wait(socket_.wait_write, poll_target::writable); // full: wait for room
        return n;
    }

    /// The descriptor, while open; -1 after.
    int native_handle() noexcept { return socket_.is_open() ? socket_.native_handle() : -1; }

    void shutdown(boost::asio::socket_base::shutdown_type what) noexcept {
        boost::system::error_code ignored;
        socket_.shutdown(what, ignored);
    }

    void close() noexcept {
        boost::system::error_code ignored;
        state_->owner.reset();
        socket_.close(ignored);
    }

private:
    struct state {
        std::weak_ptr<poll_target> owner;
        bool waiting[2] = {false, false};
    };

    void wait(boost::asio::socket_base::wait_type w, std::uint32_t event) {
        auto& waiting = state_->waiting[event - 1];
        auto owner = state_->owner.lock();
        if (waiting || !owner)
            return;
        waiting = true;
        socket_.async_wait(
            w, [st = state_, owner = std::move(owner), event](boost::system::error_code ec) {
                st->waiting[event - 1] = false;
                if (ec != boost::asio::error::operation_aborted && !st->owner.expired())
                    owner->on_ready(event);
            });
    }

    boost::asio::ip::tcp::socket socket_;
    std::shared_ptr<state> state_;
};

#endif

} // namespace roomcast::transport::detail

#endif
