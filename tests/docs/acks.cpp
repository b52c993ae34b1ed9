// Acknowledgements both ways: the server answers a client's callback, and asks clients for
// answers, with timeouts.
#include <roomcast/roomcast.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <string>

struct seat_request {
    std::string show;
    int seat;
};
BOOST_DESCRIBE_STRUCT(seat_request, (), (show, seat))

void add_ticket_desk(roomcast::server<>& io) {
    using namespace std::chrono_literals;

    // Client: socket.emit("echo", {any: "json"}, (answer) => ...). The return value answers.
    io.on("echo", [](roomcast::socket&, boost::json::value const& v) { return v; });

    // Or a trailing roomcast::ack, called once, with any number of arguments, now or later,
    // from any thread. Client: const [ok, detail] = await socket.emitWithAck("reserve", r)
    io.on("reserve", [](roomcast::socket& s, seat_request const& r, roomcast::ack reply) {
        if (r.seat < 1 || r.seat > 500)
            return reply(false, "no such seat");
        s.join("show:" + r.show);
        reply(true, r);
    });

    // The server asks the client (Socket.IO's socket.timeout(ms).emitWithAck), and the
    // answer comes to a completion handler: here a callback, on the socket's shard.
    io.on("checkout", [&io](roomcast::socket& s, std::string const& order) {
        s.timeout(30s).emit_with_ack(
            "confirm", order,
            [&io, order](boost::system::error_code ec, roomcast::arguments reply) {
                if (ec == roomcast::error::timeout || ec == roomcast::error::disconnected)
                    return; // no answer in 30 s, or the client left first
                bool confirmed = false;
                roomcast::conversion_error err;
                if (reply.get(0, confirmed, err) && confirmed)
                    io.to("kitchen").emit("order", order);
            });
    });

    // In a coroutine handler, co_await the answer; as_tuple gives the error code instead
    // of throwing it.
    io.on("leaveTable",
          [](roomcast::socket& s, std::string const& table) -> boost::asio::awaitable<void> {
              auto [ec, reply] = co_await s.timeout(10s).emit_with_ack(
                  "sure?", table, boost::asio::as_tuple(boost::asio::use_awaitable));
              if (!ec && !reply.empty() && reply[0] == true)
                  s.leave("table:" + table);
          });

    // Every member of a room answers: io.to(room).timeout(ms).emitWithAck(...) in Socket.IO.
    io.on("callVote", [&io](roomcast::socket&, std::string const& table) {
        auto const room = "table:" + table;
        // Each member's first argument, in arrival order; with error::timeout, the votes
        // that came in time.
        auto tally = [&io, room](boost::system::error_code ec, boost::json::array votes) {
            auto const yes = std::count(votes.begin(), votes.end(), boost::json::value(true));
            io.to(room).emit("voteResult", yes, votes.size(), ec == roomcast::error::timeout);
        };
        io.to(room).timeout(15s).emit_with_ack("vote", "another round?", tally);
    });
}
