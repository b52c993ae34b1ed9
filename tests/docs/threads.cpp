// Several shards, one thread each, and a host thread that broadcasts into them.
#include <roomcast/roomcast.hpp>

#include <chrono>
#include <ctime>
#include <map>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

// A socket's state lives on its shard and needs no lock; state that handlers on every shard
// share needs one.
class scoreboard {
public:
    int add(std::string const& player, int points) {
        std::lock_guard lock(mutex_);
        return scores_[player] += points;
    }

private:
    std::mutex mutex_;
    std::map<std::string, int> scores_;
};

void run_sharded(roomcast::server<>& io, scoreboard& board, std::size_t shards) {
    io.on("watch", [](roomcast::socket& s) { s.join("scores"); });
    io.on("score", [&](roomcast::socket& s, int points) {
        auto const total = board.add(s.id(), points);
        // Delivered on this shard at once, and posted to the others with the same bytes.
        io.to("scores").emit("score", s.id(), total);
    });

    // A thread that is not a shard: what it broadcasts is posted to every shard.
    std::jthread clock([&io](std::stop_token stop) {
        while (!stop.stop_requested()) {
            std::this_thread::sleep_for(std::chrono::seconds(1));
            io.to("scores").emit("time", std::time(nullptr));
        }
    });

    io.run(shards); // this thread is shard 0; returns after SIGINT/SIGTERM or io.close()
}
