// Options for a server that browsers reach from one site, with tighter limits than the
// defaults: its events are small and its clients are browsers.
#include <roomcast/roomcast.hpp>

#include <chrono>
#include <iostream>
#include <string_view>

roomcast::options public_server_options() {
    using namespace std::chrono_literals;
    return {
        .port = 8080,
        .transport =
            {
                .max_payload = 64 * 1024,
                .max_queue_bytes = 1024 * 1024,
                .cors = {.origin = {"https://play.example.com"}, .credentials = true},
                // Browsers send Origin with the WebSocket handshake too: refuse other sites.
                .allow_request =
                    [](roomcast::transport::request_info const& r) {
                        return r.header("origin") == "https://play.example.com";
                    },
            },
        .connect_timeout = 10s,
        // Every line to the host's log (the default writes warnings and errors to stderr).
        .log = [](roomcast::log_level, std::string_view line) { std::clog << line << '\n'; },
    };
}
