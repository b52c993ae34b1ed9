// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
// Builds a server, registers a handler, and shuts down at once: proof that the package's
// headers, Boost.JSON and threads link, without serving anything.
#include <roomcast/roomcast.hpp>

#include <iostream>

int main() {
    roomcast::server<> io({.address = "127.0.0.1", .port = 0, .handle_signals = false});
    io.on("echo", [](roomcast::socket&, boost::json::value v) { return v; });
    std::cout << "roomcast " << ROOMCAST_VERSION_STRING << " listened on port " << io.port()
              << '\n';
    io.close(); // before run(): run() returns as soon as the shard has shut down
    io.run();
}
