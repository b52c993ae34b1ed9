// Who may connect, and which events a socket may send.
#include <roomcast/roomcast.hpp>

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

// The host's own: an asynchronous lookup (a database, an identity provider) and a rule.
boost::asio::awaitable<std::optional<std::string>> find_user(std::string token);
bool is_admin(std::string_view user);

void add_authentication(roomcast::server<>& io) {
    // Connection middleware, before the socket counts as connected.
    // Client: io("https://game.example", {auth: {token: "..."}})
    io.use([](roomcast::socket& s, roomcast::next next) -> boost::asio::awaitable<void> {
        auto const* token = s.handshake().auth.if_contains("token");
        if (!token || !token->is_string()) {
            next(roomcast::connect_error{"not authorized", {{"code", 401}}});
            co_return;
        }
        auto const user = co_await find_user(std::string(token->get_string()));
        if (!user) {
            next(roomcast::connect_error{"unknown user", {{"code", 403}}});
            co_return;
        }
        s.data() = {{"user", *user}};
        s.join("user:" + *user); // all of this user's tabs, as one room
        next();
    });

    // Packet middleware, for each event the socket sends, before its handler.
    io.on_connection([](roomcast::socket& s) {
        s.use([](roomcast::socket& s, boost::json::array& packet, roomcast::next next) {
            auto const* event = packet.front().if_string(); // [event, args...]
            auto const& user = s.data().at("user").as_string();
            if (event && event->starts_with("admin:") && !is_admin(user))
                return next(roomcast::connect_error{"forbidden"}); // dropped; on_error is told
            next();
        });
    });

    // Each namespace has its own middleware: io.use guards "/" only.
    io.of("/admin").use(
        [](roomcast::socket& s, roomcast::next next) -> boost::asio::awaitable<void> {
            std::optional<std::string> user;
            if (auto const* token = s.handshake().auth.if_contains("token");
                token && token->is_string())
                user = co_await find_user(std::string(token->get_string()));
            if (!user || !is_admin(*user))
                throw std::runtime_error("admins only"); // refuses with this message
            next();
        });
}
