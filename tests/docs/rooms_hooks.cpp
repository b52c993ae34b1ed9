// Room lifecycle hooks: a log line when a player enters or leaves a game, and the number of
// games being played. The hooks run on the thread of the shard where the room changed.
#include <roomcast/roomcast.hpp>

#include <atomic>
#include <iostream>
#include <string>

void watch_games(roomcast::server<>& io, std::atomic<int>& games_in_play) {
    io.of("/").room_hooks({
        // With one shard, a room is created by its first member and deleted after its last.
        // With n shards each has its own part of the room: the hooks run once per part.
        .create_room =
            [&](std::string const& room) {
                if (room.starts_with("game:"))
                    ++games_in_play;
            },
        .delete_room =
            [&](std::string const& room) {
                if (room.starts_with("game:"))
                    --games_in_play;
            },
        // The member is a socket; every socket's own id room passes through here too.
        .join_room =
            [](std::string const& room, roomcast::adapter::member const& m) {
                auto const& s = static_cast<roomcast::socket const&>(m);
                if (room.starts_with("game:"))
                    std::clog << s.data() << " joined " << room << '\n';
            },
        .leave_room =
            [](std::string const& room, roomcast::adapter::member const& m) {
                if (room.starts_with("game:"))
                    std::clog << m.id() << " left " << room << '\n';
            },
    });
}
