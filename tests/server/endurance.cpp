// What a server is left with after many clients, slow clients and a close under load: no
// room membership, no session, bounded memory, every accepted message delivered in order.
#include "catch.hpp"
#include "raw_client.hpp"
#include "raw_tcp.hpp"
#include "sio_client.hpp"
#include "test_server.hpp"
#include "ws_frames.hpp"

#include <atomic>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace roomcast::test;
using namespace std::chrono_literals;

namespace {

// Under a sanitizer, freed memory is held back (ASan's quarantine) and every access costs
// more: memory is asserted in plain builds, and fewer cycles run.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool sanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool sanitized = true;
#else
constexpr bool sanitized = false;
#endif
#else
constexpr bool sanitized = false;
#endif

/// This process's resident memory, in bytes.
std::size_t resident_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::size_t pages = 0, resident = 0;
    statm >> pages >> resident;
    return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

/// The largest resident memory seen while it lives, sampled every few milliseconds.
class peak_sampler {
public:
    peak_sampler()
        : thread_([this] {
            while (!stop_) {
                peak_ = std::max(peak_.load(), resident_bytes());
                std::this_thread::sleep_for(5ms);
            }
        }) {}
    ~peak_sampler() { stop(); }
    std::size_t stop() {
        if (!stop_.exchange(true))
            thread_.join();
        return peak_;
    }

private:
    std::atomic<bool> stop_{false};
    std::atomic<std::size_t> peak_{0};
    std::thread thread_;
};

/// The number carried by a `42["<event>",<n>...` packet, or -1.
long number_in(std::string const& packet, std::string const& event) {
    auto const prefix = "42[\"" + event + "\",";
    if (packet.compare(0, prefix.size(), prefix) != 0)
        return -1;
    return std::strtol(packet.c_str() + prefix.size(), nullptr, 10);
}

} // namespace

TEST_CASE("endurance: 10,000 connect-join-broadcast-disconnect cycles on two shards leave "
          "nothing behind") {
    std::atomic<long> connections{0}, disconnections{0};
    test_server srv(
        {},
        [&](roomcast::server<>& io) {
            io.on_connection([&](roomcast::socket&) { ++connections; });
            io.on_disconnect([&](roomcast::socket&, std::string_view) { ++disconnections; });
            io.on("enter", [&io](roomcast::socket& s, std::vector<std::string> const& rooms) {
                s.join(rooms);
                io.to(rooms.front()).emit("hello", s.id());
                return s.rooms().size();
            });
        },
        2);
    constexpr int workers = 4;
    constexpr int cycles = sanitized ? 2'000 : 10'000;
    auto const run_cycles = [&](int count, int worker) {
        for (int i = 0; i < count; ++i) {
            raw_client c;
            auto const id = connect(c, srv.port());
            auto const n = std::to_string(i % 7);
            c.write(R"(421["enter",["r)" + n + R"(","w)" + std::to_string(worker) +
                    R"(","common"]])");
            // Its own broadcast reaches it, then the answer: 4 rooms with its own.
            CHECK(read_until(c, [&](auto const& p) { return p == "431[4]"; }));
            switch (i % 3) {
            case 0:
                c.close(); // a clean close
                break;
            case 1:
                c.abort(); // the TCP connection dropped
                break;
            case 2:
                c.write("41"); // leaves the namespace, then the connection goes
                c.abort();
                break;
            }
        }
    };
    auto const parallel = [&](int per_worker) {
        std::vector<std::thread> ts;
        for (int w = 0; w < workers; ++w)
            ts.emplace_back(run_cycles, per_worker, w);
        for (auto& t : ts)
            t.join();
    };
    // A tenth of the cycles warm up and set the baseline: allocator pools and thread caches
    // are in use by then.
    parallel(cycles / 40);
    REQUIRE(eventually([&] { return disconnections == connections; }, 10s));
    auto const baseline = resident_bytes();
    parallel((cycles - cycles / 10) / workers);
    REQUIRE(eventually([&] { return disconnections == connections; }, 10s));
    CHECK(connections == cycles);
    // Every room is gone (own id rooms too), on both shards.
    CHECK(rooms_of(srv.io()).empty());
    // A socket leaked per cycle would be hundreds of KiB by now.
    auto const after = resident_bytes();
    INFO("resident before " << baseline << " bytes, after " << after);
    if (!sanitized)
        CHECK(after < baseline + 4 * 1024 * 1024);
}

TEST_CASE("endurance: a member that stops reading during a flood costs bounded memory; the "
          "others get everything in order") {
    // Default options: the queue bound is 4 MiB.
    record reasons;
    constexpr int batches = 48;
    constexpr int per_batch = 500;
    test_server srv({}, [&](roomcast::server<>& io) {
        io.on_connection([](roomcast::socket& s) { s.join("room"); });
        io.on_disconnect([&](roomcast::socket& s, std::string_view why) {
            reasons.add(s.id() + " " + std::string(why));
        });
        io.on("flood", [](roomcast::socket& s, int batch) {
            std::string const filler(1024, 'x');
            for (int i = 0; i < per_batch; ++i) {
                s.to("room").volatile_().emit("v", batch * per_batch + i, filler);
                s.to("room").emit("m", batch * per_batch + i, filler);
            }
            return batch;
        });
    });

    // The stalled member: a small receive buffer, and it never reads after its CONNECT.
    raw_tcp stalled(srv.port(), 4096);
    REQUIRE(stalled.upgrade());
    stalled.write(client_frame(roomcast::protocol::websocket::opcode::text, "40"));
    REQUIRE(stalled.read_until("40{\"sid\":", 5s)); // in the room

    // Readers that keep up: every non-volatile message, in order.
    constexpr int readers = 3;
    std::vector<raw_client> members(readers);
    for (auto& m : members)
        connect(m, srv.port());
    std::atomic<int> ready{0};
    std::vector<std::atomic<long>> received(readers);
    std::vector<std::atomic<bool>> in_order(readers);
    for (auto& o : in_order)
        o = true;
    std::vector<std::thread> threads;
    for (int r = 0; r < readers; ++r)
        threads.emplace_back([&, r] {
            ++ready;
            while (received[r] < batches * per_batch) {
                auto const p = members[r].read_packet(10s);
                if (!p)
                    break;
                auto const n = number_in(*p, "m");
                if (n < 0)
                    continue; // a volatile one: may be missing
                in_order[r] = in_order[r] && n == received[r];
                ++received[r];
            }
        });
    REQUIRE(eventually([&] { return ready == readers; }));
    REQUIRE(eventually([&] { return reasons.size() == 0; }));

    raw_client publisher;
    auto const publisher_id = connect(publisher, srv.port());
    auto const baseline = resident_bytes();
    peak_sampler peak;
    auto const all_received = [&](long n) {
        return eventually(
            [&] {
                for (auto const& r : received)
                    if (r < n)
                        return false;
                return true;
            },
            10s);
    };
    for (int b = 0; b < batches; ++b) {
        // One batch in flight at a time: the members that read never queue near the bound.
        REQUIRE(all_received(b * per_batch));
        publisher.write("42" + std::to_string(b + 1) + R"(["flood",)" + std::to_string(b) + "]");
        CHECK(read_until(publisher, [&](auto const& p) {
            return p == "43" + std::to_string(b + 1) + "[" + std::to_string(b) + "]";
        }));
    }
    for (auto& t : threads)
        t.join();
    auto const grown = peak.stop() - std::min(baseline, peak.stop());
    for (int r = 0; r < readers; ++r) {
        CHECK(received[r] == batches * per_batch);
        CHECK(in_order[r]);
    }
    // The stalled member was disconnected as a slow consumer, and nobody else was.
    REQUIRE(eventually([&] { return reasons.size() == 1; }));
    CHECK(reasons.items()[0].ends_with(" transport error"));
    // 48 MiB were sent to each member: the stalled one cost its queue's bound, not that.
    INFO("peak resident growth " << grown << " bytes");
    if (!sanitized)
        CHECK(grown < 8 * 1024 * 1024);
}

TEST_CASE("endurance: close() during a flood delivers what was accepted, in order, then a "
          "proper close") {
    auto srv = std::make_unique<test_server>(
        roomcast::options{},
        [](roomcast::server<>& io) {
            io.on_connection([](roomcast::socket& s) { s.join("room"); });
        },
        2);
    constexpr int members = 6;
    std::vector<raw_client> clients(members);
    for (auto& c : clients)
        connect(c, srv->port());
    std::vector<long> received(members, 0);
    std::vector<char> in_order(members, true); // one element per thread: no shared bits
    std::vector<std::uint16_t> codes(members, 0);
    std::vector<std::thread> readers;
    for (int r = 0; r < members; ++r)
        readers.emplace_back([&, r] {
            while (auto const p = clients[r].read_packet(10s)) {
                auto const n = number_in(*p, "m");
                in_order[r] = in_order[r] && n == received[r];
                ++received[r];
            }
            codes[r] = clients[r].close_code();
        });
    // A host thread publishes as fast as it can (each emit is posted to both shards)...
    std::atomic<bool> stop{false};
    std::atomic<long> emitted{0};
    std::thread publisher([&] {
        auto& io = srv->io();
        while (!stop) {
            io.to("room").emit("m", emitted.load());
            ++emitted;
            if (emitted % 256 == 0)
                std::this_thread::sleep_for(1ms); // lets the shards keep up
        }
    });
    REQUIRE(eventually([&] { return emitted > 20'000; }, 10s));
    // ...while the server closes.
    auto const start = std::chrono::steady_clock::now();
    std::thread closer([&] { srv->io().close(); });
    closer.join();
    stop = true;
    publisher.join();
    srv.reset(); // joins run()
    // Everything accepted is delivered before the close; instrumented code takes longer.
    CHECK(std::chrono::steady_clock::now() - start < (sanitized ? 20s : 5s));
    for (auto& t : readers)
        t.join();
    for (int r = 0; r < members; ++r) {
        INFO("member " << r << " received " << received[r] << " of " << emitted.load());
        CHECK(in_order[r]);
        CHECK(received[r] > 0);
        CHECK(codes[r] == 1000);
    }
}
