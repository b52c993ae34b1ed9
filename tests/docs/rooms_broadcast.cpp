// A match between two teams: players are in "team:red" or "team:blue", referees in both,
// spectators in "spectators"; a muted player is also in "muted".
#include <roomcast/roomcast.hpp>

#include <string>

struct team_chat {
    std::string team; // "red" or "blue"
    std::string text;
};
BOOST_DESCRIBE_STRUCT(team_chat, (), (team, text))

struct goal {
    std::string team;
    std::string scorer;
    int minute;
};
BOOST_DESCRIBE_STRUCT(goal, (), (team, scorer, minute))

struct ball_position {
    double x;
    double y;
};
BOOST_DESCRIBE_STRUCT(ball_position, (), (x, y))

void add_match_handlers(roomcast::server<>& io) {
    // The sender's team, without the sender (socket.to) and without muted players (except).
    io.on("teamChat", [](roomcast::socket& s, team_chat const& m) {
        s.to("team:" + m.team).except("muted").emit("teamChat", s.id(), m.text);
    });
    // Both teams, the sender included (io.to); a referee in both rooms gets it once.
    io.on("goal", [&](roomcast::socket&, goal const& g) {
        io.to("team:red").to("team:blue").emit("goal", g);
        io.to("spectators").emit("score", g.team, g.minute);
    });
    // Everyone but the sender.
    io.on("cheer",
          [](roomcast::socket& s, std::string const& text) { s.broadcast().emit("cheer", text); });
    // Everyone in the namespace but the spectators: players and referees.
    io.on("pause",
          [&](roomcast::socket&, int minute) { io.except("spectators").emit("paused", minute); });
    // Sent many times a second: a client that is behind may miss one, the next replaces it.
    io.on("ball", [](roomcast::socket& s, ball_position const& p) {
        s.broadcast().volatile_().emit("ball", p);
    });
}
