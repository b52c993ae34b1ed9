// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_ADAPTER_REDIS_WIRE_HPP
#define ROOMCAST_ADAPTER_REDIS_WIRE_HPP

// The messages of Node's @socket.io/redis-adapter 8.x on Redis, so that roomcast servers and
// Node.js Socket.IO servers form one cluster:
//
// - broadcasts are published on `<key>#<nsp>#`, or `<key>#<nsp>#<room>#` when exactly one room
//   is targeted, as msgpack `[uid, {type, data, nsp}, {rooms, except, flags}]`; every node
//   pattern-subscribes to `<key>#<nsp>#*` and ignores its own uid;
// - requests go to `<key>-request#<nsp>#` and responses to `<key>-response#<nsp>#` (or, for a
//   node that asks for it, `<key>-response#<nsp>#<uid>#`), as JSON; the broadcast with
//   acknowledgements and its answers are msgpack.

#include <roomcast/adapter/member.hpp>
#include <roomcast/protocol/json.hpp>
#include <roomcast/protocol/msgpack.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace roomcast::adapter::redis {

/// The request types of Node's Redis adapter (its `RequestType` enum).
enum class request_type : std::int64_t {
    sockets = 0,
    all_rooms = 1,
    remote_join = 2,
    remote_leave = 3,
    remote_disconnect = 4,
    remote_fetch = 5,
    server_side_emit = 6,
    broadcast = 7,
    broadcast_client_count = 8,
    broadcast_ack = 9,
};

/// The channels of one namespace.
struct channels {
    channels(std::string_view key, std::string_view nsp)
        : broadcast(std::string(key) + "#" + std::string(nsp) + "#")
        , pattern(broadcast + "*")
        , request(std::string(key) + "-request#" + std::string(nsp) + "#")
        , response(std::string(key) + "-response#" + std::string(nsp) + "#") {}

    std::string broadcast; ///< `<key>#<nsp>#`
    std::string pattern;   ///< `<key>#<nsp>#*`
    std::string request;   ///< `<key>-request#<nsp>#`
    std::string response;  ///< `<key>-response#<nsp>#`

    /// Where a broadcast to `rooms` is published: the room's own channel for exactly one.
    std::string broadcast_for(std::vector<std::string> const& rooms) const {
        return rooms.size() == 1 ? broadcast + rooms.front() + "#" : broadcast;
    }
    /// The response channel of one node (for nodes that publish responses there).
    std::string response_for(std::string_view uid) const {
        return response + std::string(uid) + "#";
    }
};

/// A JSON array of room names.
inline boost::json::array room_array(std::vector<std::string> const& rooms) {
    boost::json::array a;
    a.reserve(rooms.size());
    for (auto const& r : rooms)
        a.emplace_back(r);
    return a;
}

/// Room names from a message: strings, and numbers as JavaScript's String(n) writes them
/// (Socket.IO rooms may be numbers in JavaScript). Anything else is skipped: for lists that
/// only inform (a fetched socket's rooms, all rooms).
inline std::vector<std::string> rooms_from(boost::json::value const* v) {
    std::vector<std::string> out;
    auto const* a = v ? v->if_array() : nullptr;
    if (!a)
        return out;
    out.reserve(a->size());
    for (auto const& r : *a) {
        if (auto const* s = r.if_string())
            out.emplace_back(*s);
        else if (r.is_number())
            out.push_back(protocol::serialize(r));
    }
    return out;
}

/// Room names that select sockets: absent or null is none; otherwise an array of strings and
/// numbers, else nullopt. Never lenient here: a list read as empty would select everyone.
inline std::optional<std::vector<std::string>> room_list(boost::json::value const* v) {
    if (!v || v->is_null())
        return std::vector<std::string>{};
    auto const* a = v->if_array();
    if (!a)
        return std::nullopt;
    for (auto const& r : *a)
        if (!r.is_string() && !r.is_number())
            return std::nullopt;
    return rooms_from(v);
}

/// `{rooms, except}`, as requests carry a selection.
inline boost::json::object selection(broadcast_options const& opt) {
    return {{"rooms", room_array(opt.rooms)}, {"except", room_array(opt.except)}};
}

/// The selection of a request or broadcast (`opts`), flagged local: it is applied here only.
/// Absent or null selects every socket; anything malformed is nullopt (the message is
/// refused), never a selection wider than the sender meant.
inline std::optional<broadcast_options> selection_from(boost::json::value const* opts) {
    broadcast_options opt;
    opt.local = true;
    if (!opts || opts->is_null())
        return opt;
    auto const* o = opts->if_object();
    if (!o)
        return std::nullopt;
    auto rooms = room_list(o->if_contains("rooms"));
    auto except = room_list(o->if_contains("except"));
    if (!rooms || !except)
        return std::nullopt;
    opt.rooms = std::move(*rooms);
    opt.except = std::move(*except);
    if (auto const* f = o->if_contains("flags"); f && f->is_object())
        if (auto const* v = f->get_object().if_contains("volatile"); v && v->is_bool())
            opt.is_volatile = v->get_bool();
    return opt;
}

/// The `flags` of a broadcast as Socket.IO sends them: only those set.
inline boost::json::object flags_of(broadcast_options const& opt) {
    boost::json::object f;
    if (opt.is_volatile)
        f.emplace("volatile", true);
    if (!opt.compress)
        f.emplace("compress", false);
    return f;
}

/// The Socket.IO packet of an event as the adapter carries it: `{type: 2, data, nsp}`.
inline boost::json::object event_packet(boost::json::array const& args, std::string_view nsp) {
    return {{"type", 2}, {"data", args}, {"nsp", nsp}};
}

/// A broadcast: msgpack `[uid, {type: 2, data: args, nsp}, {rooms, except, flags}]`. Binary
/// attachments, referred to by placeholders in `args`, go as msgpack bin (Node Buffers).
inline std::string encode_broadcast(std::string_view uid, std::string_view nsp,
                                    boost::json::array const& args,
                                    std::span<std::string const> attachments,
                                    broadcast_options const& opt) {
    auto opts = selection(opt);
    opts.emplace("flags", flags_of(opt));
    boost::json::array const msg{uid, event_packet(args, nsp), std::move(opts)};
    return protocol::msgpack::encode(msg, attachments);
}

/// A broadcast another node published.
struct broadcast_message {
    std::string uid;
    std::string nsp;
    boost::json::array args; ///< event name first; placeholders refer to `attachments`
    std::vector<std::string> attachments;
    broadcast_options opt; ///< flagged local: delivered on this node only
};

/// How deep a message from another server may nest: a client's JSON may nest 64 levels, and
/// the adapter's message wraps it in a few more.
inline constexpr std::size_t max_message_depth = 72;

/// Why a message from Redis was not taken.
inline boost::system::error_code malformed_message() {
    return protocol::make_error_code(protocol::error::invalid_payload);
}

/// Whether `args` are an event's: a non-empty array whose first element names the event.
inline bool is_event(boost::json::value const* data) {
    auto const* a = data ? data->if_array() : nullptr;
    return a && !a->empty() && (a->front().is_string() || a->front().is_number());
}

/// The event packet `{type: 2 or 5, data, nsp}` of a message, checked.
inline bool check_event_packet(boost::json::object const& packet) {
    auto const* type = packet.if_contains("type");
    if (!type || !type->is_number())
        return false;
    auto const t = type->to_number<double>();
    return (t == 2 || t == 5) && is_event(packet.if_contains("data"));
}

/// Decodes a broadcast; at most `max_attachments` binary values.
inline boost::system::result<broadcast_message> decode_broadcast(std::string_view bytes,
                                                                 std::size_t max_attachments) {
    broadcast_message m;
    auto v = protocol::msgpack::decode(
        bytes, m.attachments, {.max_depth = max_message_depth, .max_attachments = max_attachments});
    if (!v)
        return v.error();
    auto* a = v->if_array();
    if (!a || a->size() < 3 || !(*a)[0].is_string() || !(*a)[1].is_object())
        return malformed_message();
    m.uid = (*a)[0].get_string();
    auto& packet = (*a)[1].get_object();
    if (!check_event_packet(packet))
        return malformed_message();
    auto const* nsp = packet.if_contains("nsp");
    m.nsp = nsp && nsp->is_string() ? std::string(nsp->get_string()) : std::string("/");
    m.args = std::move(packet["data"].get_array());
    if (!(*a)[2].is_object())
        return malformed_message();
    auto sel = selection_from(&(*a)[2]);
    if (!sel)
        return malformed_message();
    m.opt = std::move(*sel);
    return m;
}

/// A request or response: JSON when it starts with `{`, msgpack otherwise (as the Node
/// adapter tells them apart). It must be an object.
inline boost::system::result<boost::json::object>
decode_message(std::string_view bytes, std::vector<std::string>& attachments,
               std::size_t max_attachments) {
    boost::json::value v;
    if (!bytes.empty() && bytes.front() == '{') {
        auto r = protocol::parse_json(bytes, max_message_depth);
        if (!r)
            return r.error();
        v = std::move(*r);
    } else {
        auto r = protocol::msgpack::decode(
            bytes, attachments,
            {.max_depth = max_message_depth, .max_attachments = max_attachments});
        if (!r)
            return r.error();
        v = std::move(*r);
    }
    if (!v.is_object())
        return malformed_message();
    return std::move(v.get_object());
}

/// A whole number from a message, at most `max`; nullopt for anything else (a fraction, a
/// negative or huge number, another kind).
inline std::optional<std::uint64_t> whole_number(boost::json::value const* v, std::uint64_t max) {
    if (!v)
        return std::nullopt;
    if (auto const* i = v->if_int64(); i && *i >= 0 && static_cast<std::uint64_t>(*i) <= max)
        return static_cast<std::uint64_t>(*i);
    if (auto const* u = v->if_uint64(); u && *u <= max)
        return *u;
    if (auto const* d = v->if_double();
        d && *d >= 0 && *d <= static_cast<double>(max) && std::floor(*d) == *d)
        return static_cast<std::uint64_t>(*d);
    return std::nullopt;
}

/// The `type` of a request or response, or -1 when it is none of the request types.
inline std::int64_t type_of(boost::json::object const& o) {
    auto const t = whole_number(o.if_contains("type"), 1000);
    return t ? static_cast<std::int64_t>(*t) : -1;
}

/// A string member, or empty.
inline std::string string_of(boost::json::object const& o, std::string_view key) {
    auto const* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

/// The broadcast with acknowledgements, as a request (msgpack): `{uid, requestId, type: 7,
/// packet, opts: {rooms, except, flags: {timeout}}}`.
inline std::string encode_broadcast_request(std::string_view uid, std::string_view request_id,
                                            std::string_view nsp, boost::json::array const& args,
                                            std::span<std::string const> attachments,
                                            broadcast_options const& opt,
                                            std::chrono::milliseconds timeout) {
    auto opts = selection(opt);
    auto flags = flags_of(opt);
    flags.emplace("timeout", timeout.count());
    opts.emplace("flags", std::move(flags));
    boost::json::object const msg{{"uid", uid},
                                  {"requestId", request_id},
                                  {"type", static_cast<std::int64_t>(request_type::broadcast)},
                                  {"packet", event_packet(args, nsp)},
                                  {"opts", std::move(opts)}};
    return protocol::msgpack::encode(msg, attachments);
}

/// One client's answer to a broadcast with acknowledgements (msgpack).
inline std::string encode_broadcast_ack(std::string_view request_id,
                                        boost::json::value const& answer) {
    boost::json::object const msg{{"type", static_cast<std::int64_t>(request_type::broadcast_ack)},
                                  {"requestId", request_id},
                                  {"packet", answer}};
    return protocol::msgpack::encode(msg);
}

} // namespace roomcast::adapter::redis

#endif
