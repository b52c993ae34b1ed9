// The documentation's samples (tests/docs/*.cpp, shown in docs/*.md) are compiled together
// into this program, which registers each sample's handlers on a server and shuts it down:
// a sample must build, link, and set up without throwing. The host functions the samples
// declare are stand-ins here.
#include "test_cert.hpp"

#include <roomcast/redis.hpp>
#include <roomcast/redis_emitter.hpp>
#include <roomcast/roomcast.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The samples' functions.
void add_room_handlers(roomcast::server<>& io);
void add_match_handlers(roomcast::server<>& io);
void add_presence(roomcast::server<>& io);
void watch_games(roomcast::server<>& io, std::atomic<int>& games_in_play);
void add_admin_queries(roomcast::server<>& io);
void add_namespaces(roomcast::server<>& io);
void add_authentication(roomcast::server<>& io);
void add_ticket_desk(roomcast::server<>& io);
void add_file_sharing(roomcast::server<>& io);
void add_game_handlers(roomcast::server<>& io);
void serve_site(roomcast::server<>& io);
roomcast::options public_server_options();
using cluster_server = roomcast::server<roomcast::transport::websocket, roomcast::redis_adapter>;
roomcast::redis_options cluster_redis();
void add_chat(cluster_server& io);
void add_cluster_admin(cluster_server& io);
int announce(roomcast::redis_options redis, std::string const& text,
             std::chrono::milliseconds deadline);
// run_sharded (threads.cpp), run_host (embedding.cpp), run_engineio_echo (engineio.cpp) and
// run_cluster_member (scaling_server.cpp) serve until a signal: they are built, not run.

// What the samples expect of their host.
boost::asio::awaitable<std::optional<std::string>> find_user(std::string token) {
    co_return token == "secret" ? std::optional<std::string>("ada") : std::nullopt;
}
bool is_admin(std::string_view user) {
    return user == "ada";
}
std::vector<std::uint8_t> load_avatar(std::string_view user) {
    return {user.begin(), user.end()};
}
void reload_bans() {}
roomcast::options tls_server_options(std::string const& certificate_chain_file,
                                     std::string const& private_key_file);

// A loopback port where nothing listens (it was free a moment ago).
std::uint16_t unused_port() {
    boost::asio::io_context ctx;
    boost::asio::ip::tcp::acceptor probe(ctx, {boost::asio::ip::make_address("127.0.0.1"), 0});
    return probe.local_endpoint().port();
}

int main() {
    auto quiet = [](roomcast::options o) {
        o.address = "127.0.0.1";
        o.port = 0;
        o.handle_signals = false;
        return o;
    };
    roomcast::server<> io(quiet({}));
    std::atomic<int> games{0};
    add_room_handlers(io);
    add_match_handlers(io);
    add_presence(io);
    watch_games(io, games);
    add_admin_queries(io);
    add_namespaces(io);
    add_authentication(io);
    add_ticket_desk(io);
    add_file_sharing(io);
    add_game_handlers(io);
    serve_site(io);
    io.close(); // run() returns as soon as its shards have started
    io.run(2);

    roomcast::server<> configured(quiet(public_server_options()));
    configured.close();
    configured.run();

    // The TLS sample, with a certificate made for the run.
    auto const dir = std::filesystem::temp_directory_path();
    auto const cert = (dir / "roomcast-doc-sample-cert.pem").string();
    auto const key = (dir / "roomcast-doc-sample-key.pem").string();
    auto const made = roomcast::test::make_test_certificate();
    std::ofstream(cert) << made.certificate_pem;
    std::ofstream(key) << made.key_pem;
    roomcast::server<> secure(quiet(tls_server_options(cert, key)));
    secure.close();
    secure.run();
    std::filesystem::remove(cert);
    std::filesystem::remove(key);

    // The cluster samples need no Redis: pointed where nothing listens, a server on the Redis
    // adapter starts and closes, and the emitter gives up at its deadline.
    auto redis = cluster_redis();
    redis.host = "127.0.0.1";
    redis.port = unused_port();
    cluster_server cluster(quiet({}), redis);
    add_chat(cluster);
    add_cluster_admin(cluster);
    cluster.close();
    cluster.run(2);
    redis.on_state = nullptr; // the sample's hook speaks of a server
    if (announce(redis, "hello", std::chrono::milliseconds(300)) != 1) {
        std::cerr << "the emitter flushed without a Redis\n";
        return 1;
    }
    std::cout << "samples set up\n";
}
