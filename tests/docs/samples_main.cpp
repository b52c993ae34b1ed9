// The documentation's samples (tests/docs/*.cpp, shown in docs/*.md) are compiled together
// into this program, which registers each sample's handlers on a server and shuts it down:
// a sample must build, link, and set up without throwing. The host functions the samples
// declare are stand-ins here.
#include <roomcast/roomcast.hpp>

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <cstdint>
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
// run_sharded (threads.cpp), run_host (embedding.cpp) and run_engineio_echo (engineio.cpp)
// serve until a signal: they are built, not run.

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
    std::cout << "samples set up\n";
}
