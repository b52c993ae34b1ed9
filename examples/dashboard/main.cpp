// roomcast dashboard: live metrics pushed to the dashboards that follow a department or a team.
//
//   dashboard [--port 3000] [--threads 1]
//
// Events:
//   subscribe {department, team?}
//                    the socket joins `dept:<department>` and, when `team` is given,
//                    `team:<team>`; it gets `subscribed` {rooms: [...]}: every room it is in
//                    now (earlier subscriptions included, its own id room left out), in the
//                    order it joined them
//   updateMetric {scope: {type, id}, metric, value}
//                    `type` "department" sends to `dept:<id>`, "team" to `team:<id>`; that
//                    room (the sender included, if it is a member) gets `metricUpdate`
//                    {metric, value}; `value` is passed through as any JSON
//
// Malformed requests change nothing and get an `error` event {message}, sent to the
// requester only: a scope type other than "department" or "team" ("Unknown scope"), an
// empty department, team or scope id, or a payload that does not fit the fields above
// (e.g. "event \"subscribe\": argument 1: field .department: expected string, got number").

#include <roomcast/roomcast.hpp>

#include <cstdlib>
#include <exception>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct subscribe_request {
    std::string department;
    std::optional<std::string> team;
};
BOOST_DESCRIBE_STRUCT(subscribe_request, (), (department, team))

struct subscribed_event {
    std::vector<std::string> rooms;
};
BOOST_DESCRIBE_STRUCT(subscribed_event, (), (rooms))

struct metric_scope {
    std::string type; // "department" or "team"
    std::string id;
};
BOOST_DESCRIBE_STRUCT(metric_scope, (), (type, id))

struct update_metric {
    metric_scope scope;
    std::string metric;
    boost::json::value value; // any JSON
};
BOOST_DESCRIBE_STRUCT(update_metric, (), (scope, metric, value))

struct metric_update {
    std::string metric;
    boost::json::value value;
};
BOOST_DESCRIBE_STRUCT(metric_update, (), (metric, value))

struct error_event {
    std::string message;
};
BOOST_DESCRIBE_STRUCT(error_event, (), (message))

/// The room of a scope, or nothing for an unknown scope type.
std::optional<std::string> room_of(metric_scope const& scope) {
    if (scope.type == "department")
        return "dept:" + scope.id;
    if (scope.type == "team")
        return "team:" + scope.id;
    return std::nullopt;
}

int usage(char const* self) {
    std::cerr << "usage: " << self << " [--port N] [--threads N]\n";
    return 2;
}

} // namespace

int main(int argc, char** argv) try {
    unsigned long port = 3000, threads = 1;
    for (int i = 1; i < argc; ++i) {
        std::string_view const arg = argv[i];
        if ((arg == "--port" || arg == "--threads") && i + 1 < argc) {
            char* end = nullptr;
            auto const n = std::strtoul(argv[++i], &end, 10);
            if (*end != '\0' || (arg == "--port" && n > 65535) || (arg == "--threads" && n < 1))
                return usage(argv[0]);
            (arg == "--port" ? port : threads) = n;
        } else {
            return usage(argv[0]);
        }
    }

    roomcast::server<> io({.port = static_cast<std::uint16_t>(port)});
    using roomcast::socket;

    io.on("subscribe", [](socket& s, subscribe_request const& r) {
        if (r.department.empty() || (r.team && r.team->empty()))
            return s.emit("error", error_event{"department and team must not be empty"});
        s.join("dept:" + r.department);
        if (r.team)
            s.join("team:" + *r.team);
        auto rooms = s.rooms();
        std::erase(rooms, s.id());
        s.emit("subscribed", subscribed_event{std::move(rooms)});
    });

    io.on("updateMetric", [&](socket& s, update_metric const& u) {
        auto const room = room_of(u.scope);
        if (!room)
            return s.emit("error", error_event{"Unknown scope"});
        if (u.scope.id.empty())
            return s.emit("error", error_event{"scope id must not be empty"});
        io.to(*room).emit("metricUpdate", metric_update{u.metric, u.value});
    });

    io.on_error([](socket& s, roomcast::handler_error const& e) {
        s.emit("error", error_event{e.message});
    });

    std::cout << "dashboard listening on port " << io.port() << " with " << threads
              << (threads == 1 ? " thread" : " threads") << std::endl;
    io.run(threads);
} catch (std::exception const& e) { // e.g. "roomcast: cannot listen on 127.0.0.1:3000: ..."
    std::cerr << "dashboard: " << e.what() << '\n';
    return 1;
}
