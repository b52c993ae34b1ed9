// One connection, several namespaces: "/" for the game, "/chat" with handlers and rooms of
// its own, and a namespace per whiteboard, made when a client first connects to it.
#include <roomcast/roomcast.hpp>

#include <regex>
#include <string>
#include <string_view>

void add_namespaces(roomcast::server<>& io) {
    // Client: io("https://game.example/chat")
    auto& chat = io.of("/chat");
    chat.on("join", [](roomcast::socket& s, std::string const& room) { s.join(room); });
    chat.on("say", [&chat](roomcast::socket& s, std::string const& room, std::string const& text) {
        chat.to(room).emit("said", {{"from", s.id()}, {"text", text}}); // room of /chat, not of /
    });

    // "/board-1", "/board-2"...: each a namespace of its own with a copy of these handlers.
    auto& boards = io.of(std::regex("^/board-[0-9]+$"));
    boards.on_connection([](roomcast::socket& s) { s.emit("welcome", s.nsp().name()); });
    boards.on("draw", [](roomcast::socket& s, boost::json::value const& stroke) {
        s.broadcast().emit("draw", stroke); // everyone on this board but the artist
    });

    // Or decided by a function of the name and the handshake, called on the client's shard.
    auto& teams = io.of([](std::string_view name, roomcast::handshake_info const& hs) {
        return name.starts_with("/team-") && hs.auth.contains("token");
    });
    teams.on("ping", [](roomcast::socket&) { return "pong"; });
}
