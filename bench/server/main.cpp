// roomcast's benchmark server: the benchmark contract (join, leave, publish, echo; see
// bench/README.md) on the public roomcast API, with default options except the write-queue bound.
//
//   bench_server [PORT] [--threads N] [--no-io-uring]
//       PORT: else env PORT, else 3000; env HOST, else 127.0.0.1. --no-io-uring sets
//       transport.use_io_uring = false: one send per connection, the way bench_floor writes.

#include <roomcast/roomcast.hpp>

#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>

static int usage(char const* self) {
    std::cerr << "usage: " << self << " [PORT] [--threads N] [--no-io-uring]\n";
    return 2;
}

static bool parse_number(char const* text, unsigned long max, unsigned long& out) {
    char* end = nullptr;
    auto const n = std::strtoul(text, &end, 10);
    if (end == text || *end != '\0' || n > max)
        return false;
    out = n;
    return true;
}

int main(int argc, char** argv) try {
    unsigned long port = 3000, threads = 1;
    bool io_uring = true;
    if (char const* env = std::getenv("PORT"); env && *env && !parse_number(env, 65535, port))
        return usage(argv[0]);
    for (int i = 1; i < argc; ++i) {
        std::string_view const arg = argv[i];
        if (arg == "--threads" && i + 1 < argc) {
            if (!parse_number(argv[++i], 1024, threads) || threads < 1)
                return usage(argv[0]);
        } else if (arg == "--no-io-uring") {
            io_uring = false;
        } else if (!parse_number(argv[i], 65535, port)) {
            return usage(argv[0]);
        }
    }
    char const* host = std::getenv("HOST");

    roomcast::options opt;
    opt.address = host && *host ? host : "127.0.0.1";
    opt.port = static_cast<std::uint16_t>(port);
    // The one option that differs from the defaults: a fan-out run at a fixed rate can queue
    // more than the default 4 MiB for a client while the load generator catches up, and the
    // contract says the server buffers rather than drops (or disconnects) during a run.
    opt.transport.max_queue_bytes = 64 * 1024 * 1024;
    opt.transport.use_io_uring = io_uring;
    roomcast::server<> io(std::move(opt));

    // The argument is taken as a JSON value so that a non-string answers `false`, as the
    // contract asks, rather than the conversion error a std::string parameter would give.
    io.on("join", [](roomcast::socket& s, boost::json::value const& room) {
        if (!room.is_string())
            return false;
        s.join(std::string_view(room.get_string()));
        return true;
    });
    io.on("leave", [](roomcast::socket& s, boost::json::value const& room) {
        if (!room.is_string())
            return false;
        s.leave(std::string_view(room.get_string()));
        return true;
    });
    // The same object goes out: Boost.JSON keeps key order and 64-bit integers exactly.
    io.on("publish", [&](roomcast::socket&, boost::json::value const& msg) {
        auto const* obj = msg.if_object();
        auto const* room = obj ? obj->if_contains("room") : nullptr;
        if (!room || !room->is_string())
            return false;
        io.to(std::string_view(room->get_string())).emit("message", *obj);
        return true;
    });
    io.on("echo", [](roomcast::socket&, boost::json::value v) { return v; });

    std::cout << "bench_server listening on " << io.port() << " with " << threads
              << (threads == 1 ? " thread" : " threads") << std::endl;
    io.run(threads);
} catch (std::exception const& e) { // e.g. "roomcast: cannot listen on 127.0.0.1:3000: ..."
    std::cerr << "bench_server: " << e.what() << '\n';
    return 1;
}
