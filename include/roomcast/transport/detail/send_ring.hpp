// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_TRANSPORT_DETAIL_SEND_RING_HPP
#define ROOMCAST_TRANSPORT_DETAIL_SEND_RING_HPP

// How a shard hands the kernel the writes of many WebSockets in one system call.
//
// Once the handlers of a turn of the event loop have run, a shard writes to every connection
// they queued for: a broadcast to a room of a hundred is a hundred `send` calls, one per
// socket. Entering the kernel is a fixed cost on top of the work of each send, and it is not
// small (a microsecond on a virtualised core). Where Linux offers io_uring, a shard with two or
// more connections to write prepares one non-blocking send per connection in a ring and
// submits them all, and collects every result, with one `io_uring_enter`. Each send still does
// all of its work in the kernel (the bytes are copied and the peer woken), in the call; the
// results are the same as `send`'s with MSG_DONTWAIT, so nothing waits and a full socket says
// EAGAIN as before.
//
// Raw system calls over <linux/io_uring.h>: no library to link. A kernel that refuses the ring
// (older than 5.18, io_uring disabled by sysctl, or filtered by seccomp, as container runtimes
// often do) leaves the ring unusable and every write goes through `send`.

#include <roomcast/transport/detail/socket_poller.hpp>

#if defined(ROOMCAST_EPOLL) && !defined(ROOMCAST_NO_IO_URING) && __has_include(<linux/io_uring.h>)
#include <linux/io_uring.h>
// Kernel headers older than 5.18 (the ring needs IORING_SETUP_SUBMIT_ALL): every write uses send.
#if defined(IORING_SETUP_SUBMIT_ALL)
#define ROOMCAST_IO_URING 1
#endif
#endif

#if defined(ROOMCAST_IO_URING)
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace roomcast::transport::detail {

/// One shard's io_uring, for batches of non-blocking sends. Touched only from the thread that
/// runs the shard's io_context; nothing is in flight between two calls to `submit`.
class send_ring {
public:
    /// Sends one batch holds at most.
    static constexpr unsigned capacity = 256;
    /// The result of a send the kernel was not given (the submission itself failed): nothing
    /// of it was written, and the socket may well have room.
    static constexpr int not_submitted = std::numeric_limits<int>::min();

    send_ring() = default;
    send_ring(send_ring const&) = delete;
    send_ring& operator=(send_ring const&) = delete;
    ~send_ring() { close(); }

    /// Whether sends can go through the ring: it is made on the first call, and a kernel
    /// that refuses it is not asked again.
    bool usable() {
        if (fd_ < 0 && !refused_)
            open();
        return fd_ >= 0;
    }

    /// Whether the kernel refused the ring (or it failed): it will not be used.
    bool refused() const noexcept { return refused_; }

    /// Sends prepared and not submitted yet.
    unsigned prepared() const noexcept { return prepared_; }

    /// Prepares a send of `size` bytes at `data` on socket `fd`; `tag` comes back with its
    /// result. The bytes stay where they are until `submit` returns. Requires usable() and
    /// prepared() < capacity.
    void prepare(int fd, void const* data, std::size_t size, std::uint64_t tag) noexcept {
        auto& e = sqes_[sq_tail_local_++ & sq_mask_];
        std::memset(&e, 0, sizeof e);
        e.opcode = IORING_OP_SEND;
        e.fd = fd;
        e.addr = reinterpret_cast<std::uintptr_t>(data);
        e.len = static_cast<std::uint32_t>(
            std::min<std::size_t>(size, std::numeric_limits<std::int32_t>::max()));
        // MSG_DONTWAIT: a full socket answers EAGAIN rather than making the send wait in the
        // ring (with it, the kernel never parks the request).
        e.msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL;
        e.user_data = prepared_;
        tags_[prepared_++] = tag;
    }

    /// Submits what is prepared and waits until every send has its result, then calls
    /// `done(tag, result)` for each, once: the bytes the kernel took, or -errno (-EAGAIN: it
    /// had no room). Should the ring fail, it is closed and not used again: sends it never
    /// took are reported as not_submitted, and sends it took but did not answer as -EIO
    /// (their connections are then closed, as after any write error). A ring that turns
    /// out not to support sends reports them as not_submitted, and is closed too.
    template<class Done>
    void submit(Done&& done) {
        auto const count = prepared_;
        if (count == 0)
            return;
        prepared_ = 0;
        std::fill_n(answered_.begin(), count, false);
        auto const first = sq_tail_local_ - count;
        store(sq_tail_, sq_tail_local_);
        unsigned submitted = 0; // taken by the kernel
        unsigned reaped = 0;    // answered
        int stalls = 0;
        while (reaped < count) {
            // Submits what is left and waits for every answer. A submission cut short returns
            // without waiting, so this never waits for a send the kernel does not have.
            long const r = ::syscall(__NR_io_uring_enter, fd_, count - submitted, count - reaped,
                                     IORING_ENTER_GETEVENTS, nullptr, 0);
            int const err = r < 0 ? errno : 0;
            auto const before = submitted + reaped;
            submitted = load(sq_head_) - first;
            reaped += reap(done);
            if (submitted + reaped != before || err == EINTR) {
                stalls = 0;
                continue;
            }
            if ((err == 0 || err == EAGAIN || err == EBUSY) && ++stalls < 3)
                continue; // short of memory for a moment
            for (unsigned i = 0; i < count; ++i)
                if (!answered_[i])
                    done(tags_[i], i < submitted ? -EIO : not_submitted);
            close(); // what the kernel still holds is cancelled, or ends on its own
            return;
        }
        if (unsupported_)
            close();
    }

private:
    // The ring's indexes are shared with the kernel. (Builtins rather than std::atomic_ref,
    // which libc++ gained only in LLVM 19.)
    static unsigned load(unsigned* p) noexcept { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
    static void store(unsigned* p, unsigned v) noexcept {
        __atomic_store_n(p, v, __ATOMIC_RELEASE);
    }

    void open() noexcept {
        io_uring_params p{};
        // SUBMIT_ALL (5.18) goes on past a send refused at submission, so each send is
        // accounted for separately; kernels without it are not used.
        p.flags = IORING_SETUP_SUBMIT_ALL;
        int const fd = static_cast<int>(::syscall(__NR_io_uring_setup, capacity, &p));
        if (fd < 0) {
            refused_ = true;
            return;
        }
        unsigned const needed = IORING_FEAT_SINGLE_MMAP | IORING_FEAT_NODROP;
        std::size_t const sq_bytes = p.sq_off.array + p.sq_entries * sizeof(unsigned);
        std::size_t const cq_bytes = p.cq_off.cqes + p.cq_entries * sizeof(io_uring_cqe);
        ring_bytes_ = std::max(sq_bytes, cq_bytes);
        sqe_bytes_ = p.sq_entries * sizeof(io_uring_sqe);
        void* ring = MAP_FAILED;
        void* sqes = MAP_FAILED;
        if ((p.features & needed) == needed) {
            ring = ::mmap(nullptr, ring_bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
                          fd, IORING_OFF_SQ_RING);
            sqes = ::mmap(nullptr, sqe_bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
                          fd, IORING_OFF_SQES);
        }
        if (ring == MAP_FAILED || sqes == MAP_FAILED) {
            if (ring != MAP_FAILED)
                ::munmap(ring, ring_bytes_);
            if (sqes != MAP_FAILED)
                ::munmap(sqes, sqe_bytes_);
            ::close(fd);
            refused_ = true;
            return;
        }
        auto* base = static_cast<char*>(ring);
        ring_ = ring;
        sqes_ = static_cast<io_uring_sqe*>(sqes);
        sq_head_ = reinterpret_cast<unsigned*>(base + p.sq_off.head);
        sq_tail_ = reinterpret_cast<unsigned*>(base + p.sq_off.tail);
        sq_mask_ = *reinterpret_cast<unsigned*>(base + p.sq_off.ring_mask);
        cq_head_ = reinterpret_cast<unsigned*>(base + p.cq_off.head);
        cq_tail_ = reinterpret_cast<unsigned*>(base + p.cq_off.tail);
        cq_mask_ = *reinterpret_cast<unsigned*>(base + p.cq_off.ring_mask);
        cqes_ = reinterpret_cast<io_uring_cqe*>(base + p.cq_off.cqes);
        // The submission queue's slots map one to one onto the entries, once and for all.
        auto* array = reinterpret_cast<unsigned*>(base + p.sq_off.array);
        for (unsigned i = 0; i < p.sq_entries; ++i)
            array[i] = i;
        sq_tail_local_ = *sq_tail_;
        fd_ = fd;
    }

    void close() noexcept {
        if (fd_ < 0)
            return;
        ::munmap(sqes_, sqe_bytes_);
        ::munmap(ring_, ring_bytes_);
        ::close(fd_);
        fd_ = -1;
        refused_ = true;
    }

    /// Hands each completion the kernel posted to `done`; returns how many.
    template<class Done>
    unsigned reap(Done& done) {
        auto head = *cq_head_;
        auto const tail = load(cq_tail_);
        unsigned n = 0;
        for (; head != tail; ++head, ++n) {
            auto const& c = cqes_[head & cq_mask_];
            auto const i = static_cast<unsigned>(c.user_data);
            answered_[i] = true;
            auto result = c.res;
            if (result == -EINVAL || result == -EOPNOTSUPP) {
                // A ring that does not know IORING_OP_SEND (an emulated kernel, say): the send
                // was not made. Through `send` it will be, and the ring is not used again.
                unsupported_ = true;
                result = not_submitted;
            }
            done(tags_[i], result);
        }
        store(cq_head_, head);
        return n;
    }

    int fd_ = -1;
    bool refused_ = false;
    bool unsupported_ = false;
    void* ring_ = nullptr;
    std::size_t ring_bytes_ = 0;
    std::size_t sqe_bytes_ = 0;
    io_uring_sqe* sqes_ = nullptr;
    io_uring_cqe* cqes_ = nullptr;
    unsigned* sq_head_ = nullptr;
    unsigned* sq_tail_ = nullptr;
    unsigned* cq_head_ = nullptr;
    unsigned* cq_tail_ = nullptr;
    unsigned sq_mask_ = 0;
    unsigned cq_mask_ = 0;
    unsigned sq_tail_local_ = 0;
    unsigned prepared_ = 0;
    std::array<std::uint64_t, capacity> tags_{}; // by the send's place in the batch
    std::array<bool, capacity> answered_{};
};

} // namespace roomcast::transport::detail

#endif
#endif
