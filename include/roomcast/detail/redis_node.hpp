// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_DETAIL_REDIS_NODE_HPP
#define ROOMCAST_DETAIL_REDIS_NODE_HPP

#include <roomcast/adapter/redis/connection.hpp>
#include <roomcast/adapter/redis/wire.hpp>
#include <roomcast/broadcast.hpp>
#include <roomcast/detail/cluster.hpp>
#include <roomcast/detail/server_core.hpp>
#include <roomcast/name_space.hpp>
#include <roomcast/redis_options.hpp>
#include <roomcast/remote_socket.hpp>
#include <roomcast/socket.hpp>
#include <roomcast/transport/detail/random_id.hpp>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace roomcast::detail {

/// A handshake as Socket.IO servers describe it to each other (`socket.handshake`).
inline boost::json::object handshake_json(handshake_info const& hs) {
    auto const fields = [](transport::field_list const& l) {
        boost::json::object o;
        for (auto [k, v] : l)
            if (!o.contains(k))
                o.emplace(k, v);
        return o;
    };
    return {{"headers", fields(hs.headers)},
            {"address", hs.address},
            {"xdomain", !hs.header("origin").empty()},
            {"secure", hs.secure},
            {"url", hs.url},
            {"query", fields(hs.query)},
            {"auth", hs.auth}};
}

/// A handshake another server described; what is missing stays empty.
inline std::shared_ptr<handshake_info const> handshake_from(boost::json::value const* v) {
    auto hs = std::make_shared<handshake_info>();
    auto const* o = v ? v->if_object() : nullptr;
    if (!o)
        return hs;
    auto const fields = [](boost::json::value const* f, transport::field_list& out) {
        if (auto const* fo = f ? f->if_object() : nullptr)
            for (auto const& [k, val] : *fo)
                out.add(k, val.is_string() ? std::string(val.get_string())
                                           : boost::json::serialize(val));
    };
    fields(o->if_contains("headers"), hs->headers);
    fields(o->if_contains("query"), hs->query);
    hs->url = adapter::redis::string_of(*o, "url");
    hs->address = adapter::redis::string_of(*o, "address");
    if (auto const* s = o->if_contains("secure"); s && s->is_bool())
        hs->secure = s->get_bool();
    if (auto const* a = o->if_contains("auth"); a && a->is_object())
        hs->auth = a->get_object();
    return hs;
}

/// The node of `redis_adapter`: one per server, on its first shard's executor, with one
/// Redis connection to publish and one to subscribe. Everything it holds is touched on that
/// executor only; the `cluster` calls post there.
class redis_node final : public cluster {
public:
    redis_node(server_core& server, boost::asio::any_io_executor ex, redis_options opt)
        : server_(&server)
        , ex_(std::move(ex))
        , opt_(std::move(opt))
        , uid_(transport::detail::random_id()) {
        auto const co = connection_options_of(opt_);
        pub_ = std::make_shared<adapter::redis::connection>(ex_, co);
        sub_ = std::make_shared<adapter::redis::connection>(ex_, co);
        pub_->on_state([this](bool up, boost::system::error_code ec) { on_state(0, up, ec); });
        sub_->on_state([this](bool up, boost::system::error_code ec) { on_state(1, up, ec); });
        sub_->on_message(
            [this](std::string_view pattern, std::string_view channel, std::string_view payload) {
                on_message(pattern, channel, payload);
            });
        boost::asio::post(ex_, [pub = pub_, sub = sub_] {
            pub->start();
            sub->start();
        });
    }

    // Posted, never run in place: the server calls these under its namespaces' lock, and
    // their order must be the lock's (a child dropped and made again must end subscribed).
    void add_namespace(std::shared_ptr<name_space> const& nsp) override {
        boost::asio::post(ex_, [this, weak = std::weak_ptr<name_space>(nsp), name = nsp->name()] {
            if (weak.expired())
                return;
            adapter::redis::channels const ch(opt_.key, name);
            patterns_.insert_or_assign(ch.pattern, weak);
            channels_.insert_or_assign(ch.request, channel_entry{weak, true});
            channels_.insert_or_assign(ch.response, channel_entry{weak, false});
            channels_.insert_or_assign(ch.response_for(uid_), channel_entry{weak, false});
            sub_->psubscribe(ch.pattern);
            sub_->subscribe(ch.request);
            sub_->subscribe(ch.response);
            sub_->subscribe(ch.response_for(uid_));
        });
    }

    void remove_namespace(std::string const& name) override {
        boost::asio::post(ex_, [this, name] {
            adapter::redis::channels const ch(opt_.key, name);
            patterns_.erase(ch.pattern);
            for (auto const& c : {ch.request, ch.response, ch.response_for(uid_)}) {
                channels_.erase(c);
                sub_->unsubscribe(c);
            }
            sub_->punsubscribe(ch.pattern);
        });
    }

    void publish(name_space& nsp, payload const& p,
                 adapter::broadcast_options const& opt) override {
        // Encoded on the caller's thread: the node only writes it.
        adapter::redis::channels const ch(opt_.key, nsp.name());
        send(ch.broadcast_for(opt.rooms),
             adapter::redis::encode_broadcast(uid_, nsp.name(), p.args, p.attachments, opt));
    }

    void sockets_action(name_space& nsp, adapter::broadcast_options const& opt, action a,
                        std::vector<std::string> const& rooms) override {
        using adapter::redis::request_type;
        auto const type = a == action::join    ? request_type::remote_join
                          : a == action::leave ? request_type::remote_leave
                                               : request_type::remote_disconnect;
        boost::json::object req{{"uid", uid_},
                                {"type", static_cast<std::int64_t>(type)},
                                {"opts", adapter::redis::selection(opt)}};
        if (type == request_type::remote_disconnect)
            req.emplace("close", a == action::disconnect_close);
        else
            req.emplace("rooms", adapter::redis::room_array(rooms));
        send(adapter::redis::channels(opt_.key, nsp.name()).request, boost::json::serialize(req));
    }

    void fetch_sockets(name_space& nsp, adapter::broadcast_options const& opt,
                       std::vector<remote_socket> local, fetch_handler h) override {
        auto r = std::make_shared<fetch_request>(server_->home_executor(), nsp.shared_from_this(),
                                                 std::move(local), std::move(h));
        boost::json::object req{
            {"uid", uid_},
            {"type", static_cast<std::int64_t>(adapter::redis::request_type::remote_fetch)},
            {"opts", adapter::redis::selection(opt)}};
        ask_others(nsp.name(), std::move(r), std::move(req));
    }

    void all_rooms(name_space& nsp, std::vector<room_info> local, rooms_handler h) override {
        auto r = std::make_shared<rooms_request>(server_->home_executor(), std::move(local),
                                                 std::move(h));
        boost::json::object req{
            {"uid", uid_},
            {"type", static_cast<std::int64_t>(adapter::redis::request_type::all_rooms)}};
        ask_others(nsp.name(), std::move(r), std::move(req));
    }

    void server_count(name_space& nsp, count_handler h) override {
        auto shared = std::make_shared<count_handler>(std::move(h));
        boost::asio::dispatch(ex_, [this, home = server_->home_executor(), shared,
                                    ch = adapter::redis::channels(opt_.key, nsp.name()).request] {
            if (!up()) // only this one is reachable
                return complete_on(home, std::move(*shared), boost::system::error_code{},
                                   std::size_t{1});
            count_servers(ch, [home, shared](boost::system::error_code ec, std::size_t n) {
                complete_on(home, std::move(*shared), ec, n);
            });
        });
    }

    void server_side_emit(name_space& nsp, payload const& p) override {
        send(adapter::redis::channels(opt_.key, nsp.name()).request,
             boost::json::serialize(server_side_request(p)));
    }

    void server_side_emit_with_ack(name_space& nsp, payload const& p,
                                   responses_handler h) override {
        auto req = server_side_request(p); // throws for binary, before taking the handler
        auto r = std::make_shared<answers_request>(server_->home_executor(), std::move(h));
        ask_others(nsp.name(), std::move(r), std::move(req));
    }

    void broadcast_with_ack(name_space& nsp, payload const& p,
                            adapter::broadcast_options const& opt,
                            std::chrono::milliseconds timeout,
                            remote_ack_callbacks callbacks) override {
        auto id = transport::detail::random_id();
        auto msg = adapter::redis::encode_broadcast_request(uid_, id, nsp.name(), p.args,
                                                            p.attachments, opt, timeout);
        boost::asio::dispatch(ex_, [this, id = std::move(id), msg = std::move(msg), timeout,
                                    cb = std::move(callbacks),
                                    ch = adapter::redis::channels(opt_.key, nsp.name())
                                             .request]() mutable {
            // Reported once: this server alone if the request could not go out.
            auto const counted = std::make_shared<bool>(false);
            auto const count = [counted, f = cb.server_count](std::size_t n) {
                if (!std::exchange(*counted, true))
                    f(n);
            };
            if (closed_ || !up())
                return count(1); // nobody else to wait for
            auto& a = acks_.emplace(id, ack_request{std::move(cb), {ex_, timeout}}).first->second;
            // Answers that come later are not waited for any more.
            a.expiry.async_wait([this, id](boost::system::error_code ec) {
                if (!ec)
                    acks_.erase(id);
            });
            pub_->command({"PUBLISH", ch, msg},
                          [count](boost::system::error_code ec, adapter::redis::reply const&) {
                              if (ec)
                                  count(1);
                          });
            count_servers(
                ch, [count](boost::system::error_code ec, std::size_t n) { count(ec ? 1 : n); });
        });
    }

    void close() override {
        boost::asio::dispatch(ex_, [this] {
            if (closed_)
                return;
            closed_ = true;
            auto pending = std::move(requests_);
            requests_.clear();
            for (auto& [_, r] : pending) {
                r->timer.reset();
                r->finish(boost::asio::error::operation_aborted);
            }
            acks_.clear();
            pub_->close();
            sub_->close();
        });
    }

private:
    /// Bounds on numbers other servers send: a broadcast's acknowledgement timeout (an hour)
    /// and the clients one server counts.
    static constexpr std::uint64_t max_ack_timeout_ms = 3'600'000;
    static constexpr std::uint64_t max_client_count = 1'000'000'000;

    /// A request to the other servers, waiting for their answers.
    struct pending_request {
        virtual ~pending_request() = default;
        /// Takes one answer; true once every expected answer is in.
        virtual bool take(boost::json::object& answer) = 0;
        /// Completes the request's handler.
        virtual void finish(boost::system::error_code ec) = 0;
        std::size_t expected = 0;
        std::optional<boost::asio::steady_timer> timer;
    };

    struct fetch_request final : pending_request {
        fetch_request(boost::asio::any_io_executor home, std::shared_ptr<name_space> nsp,
                      std::vector<remote_socket> local, fetch_handler&& handler)
            : home(std::move(home))
            , nsp(std::move(nsp))
            , sockets(std::move(local))
            , h(std::move(handler)) {}
        bool take(boost::json::object& answer) override {
            ++got; // an answer without sockets counts, as in Node's adapter
            if (auto* list = answer.if_contains("sockets"); list && list->is_array())
                for (auto& s : list->get_array())
                    if (auto* o = s.if_object())
                        sockets.emplace_back(adapter::redis::string_of(*o, "id"),
                                             adapter::redis::rooms_from(o->if_contains("rooms")),
                                             o->contains("data") ? std::move((*o)["data"])
                                                                 : boost::json::value(),
                                             handshake_from(o->if_contains("handshake")), nsp);
            return got >= expected;
        }
        void finish(boost::system::error_code ec) override {
            complete_on(home, std::move(h), ec, std::move(sockets));
        }
        boost::asio::any_io_executor home;
        std::shared_ptr<name_space> nsp;
        std::vector<remote_socket> sockets;
        fetch_handler h;
        std::size_t got = 0;
    };

    struct rooms_request final : pending_request {
        rooms_request(boost::asio::any_io_executor home, std::vector<room_info> local,
                      rooms_handler&& handler)
            : home(std::move(home))
            , rooms(std::move(local))
            , h(std::move(handler)) {
            for (auto const& r : rooms)
                names.insert(r.name);
        }
        bool take(boost::json::object& answer) override {
            ++got;
            for (auto const& r : adapter::redis::rooms_from(answer.if_contains("rooms")))
                if (names.insert(r).second)
                    rooms.push_back({r, 0}); // no member of it here
            return got >= expected;
        }
        void finish(boost::system::error_code ec) override {
            std::sort(rooms.begin(), rooms.end(),
                      [](room_info const& a, room_info const& b) { return a.name < b.name; });
            complete_on(home, std::move(h), ec, std::move(rooms));
        }
        boost::asio::any_io_executor home;
        std::vector<room_info> rooms;
        std::set<std::string, std::less<>> names;
        rooms_handler h;
        std::size_t got = 0;
    };

    struct answers_request final : pending_request {
        answers_request(boost::asio::any_io_executor home, responses_handler&& handler)
            : home(std::move(home))
            , h(std::move(handler)) {}
        bool take(boost::json::object& answer) override {
            auto* data = answer.if_contains("data");
            answers.push_back(data ? std::move(*data) : boost::json::value());
            return answers.size() >= expected;
        }
        void finish(boost::system::error_code ec) override {
            complete_on(home, std::move(h), ec, std::move(answers));
        }
        boost::asio::any_io_executor home;
        boost::json::array answers;
        responses_handler h;
    };

    struct ack_request {
        remote_ack_callbacks callbacks;
        boost::asio::steady_timer expiry;
    };

    struct channel_entry {
        std::weak_ptr<name_space> nsp;
        bool request; // else a response channel
    };

    boost::json::object server_side_request(payload const& p) const {
        if (!p.attachments.empty())
            throw std::invalid_argument("roomcast: server_side_emit carries JSON only, not binary");
        return {{"uid", uid_},
                {"type", static_cast<std::int64_t>(adapter::redis::request_type::server_side_emit)},
                {"data", p.args}};
    }

    /// Publishes `msg` on `channel` (from any thread). What cannot be sent while Redis is
    /// unreachable is dropped: the other servers are not there to take it anyway.
    void send(std::string channel, std::string msg) {
        boost::asio::dispatch(ex_, [this, channel = std::move(channel),
                                    msg = std::move(msg)]() mutable {
            if (closed_)
                return;
            pub_->command({"PUBLISH", std::move(channel), std::move(msg)},
                          [this](boost::system::error_code ec, adapter::redis::reply const&) {
                              if (ec && !dropping_) {
                                  dropping_ = true;
                                  server_->log(log_level::warning,
                                               "redis: messages to other servers are dropped: " +
                                                   ec.message());
                              }
                          });
        });
    }

    /// Publishes a response to the server `to`.
    void respond(std::string const& nsp, std::string const& to, std::string msg) {
        adapter::redis::channels const ch(opt_.key, nsp);
        send(opt_.publish_on_specific_response_channel ? ch.response_for(to) : ch.response,
             std::move(msg));
    }

    /// `PUBSUB NUMSUB` of a request channel: the servers of the cluster.
    void count_servers(std::string const& channel,
                       std::function<void(boost::system::error_code, std::size_t)> f) {
        pub_->command({"PUBSUB", "NUMSUB", channel}, [f = std::move(f)](
                                                         boost::system::error_code ec,
                                                         adapter::redis::reply const& r) {
            if (ec)
                return f(ec, 1);
            if (r.elements.size() != 2 ||
                r.elements[1].type != adapter::redis::reply::kind::integer)
                return f(adapter::redis::make_error_code(adapter::redis::error::protocol_error), 1);
            f({}, static_cast<std::size_t>(std::max(r.elements[1].integer, 1LL)));
        });
    }

    /// Sends request `req` to the other servers and waits for one answer from each: the
    /// servers `PUBSUB NUMSUB` counts, minus this one. Without other servers, or without
    /// Redis, `r` completes with what it holds.
    void ask_others(std::string nsp, std::shared_ptr<pending_request> r, boost::json::object req) {
        boost::asio::dispatch(
            ex_, [this, nsp = std::move(nsp), r = std::move(r), req = std::move(req)]() mutable {
                if (closed_)
                    return r->finish(boost::asio::error::operation_aborted);
                if (!up())
                    return r->finish({}); // no other server reachable: what this one has
                auto const ch = adapter::redis::channels(opt_.key, nsp).request;
                count_servers(ch, [this, ch, r, req = std::move(req)](boost::system::error_code ec,
                                                                      std::size_t n) mutable {
                    if (ec || n <= 1 || closed_)
                        return r->finish({}); // no other server to ask, or none reachable
                    r->expected = n - 1;
                    auto id = transport::detail::random_id();
                    req.emplace("requestId", id);
                    r->timer.emplace(ex_, opt_.requests_timeout);
                    r->timer->async_wait([this, id](boost::system::error_code ec) {
                        if (ec)
                            return;
                        auto it = requests_.find(id);
                        if (it == requests_.end())
                            return;
                        auto timed_out = std::move(it->second);
                        requests_.erase(it);
                        timed_out->finish(error::timeout);
                    });
                    requests_.emplace(id, r);
                    pub_->command(
                        {"PUBLISH", ch, boost::json::serialize(req)},
                        [this, id](boost::system::error_code ec, adapter::redis::reply const&) {
                            if (!ec)
                                return;
                            auto it = requests_.find(id);
                            if (it == requests_.end())
                                return;
                            auto failed = std::move(it->second);
                            requests_.erase(it);
                            failed->timer.reset();
                            failed->finish(ec);
                        });
                });
            });
    }

    /// Both connections up: other servers can be asked and can answer.
    bool up() const noexcept { return up_[0] && up_[1]; }

    void on_state(int which, bool up, boost::system::error_code ec) {
        bool const was = up_[0] && up_[1];
        up_[which] = up;
        bool const now = up_[0] && up_[1];
        // Changes are reported; so is the first failure of a server that was never up, so
        // that a Redis unreachable from the start does not go unsaid.
        bool const first_failure = !now && !was && ec && !reported_;
        if (now == was && !first_failure)
            return;
        reported_ = true;
        auto const where = opt_.host + ":" + std::to_string(opt_.port);
        if (now) {
            dropping_ = false;
            server_->log(log_level::info, "redis: connected to " + where);
        } else {
            server_->log(log_level::warning,
                         "redis: " + std::string(was ? "connection to " : "cannot connect to ") +
                             where + (was ? " lost: " : ": ") + ec.message());
        }
        if (opt_.on_state)
            opt_.on_state(now, ec);
    }

    void on_message(std::string_view pattern, std::string_view channel, std::string_view payload) {
        if (!pattern.empty()) {
            if (auto it = patterns_.find(pattern); it != patterns_.end())
                if (auto nsp = it->second.lock())
                    on_broadcast(*nsp, payload);
            return;
        }
        auto it = channels_.find(channel);
        if (it == channels_.end())
            return;
        auto nsp = it->second.nsp.lock();
        if (!nsp)
            return;
        if (it->second.request)
            on_request(nsp, payload);
        else
            on_response(payload);
    }

    void reject(char const* what, boost::system::error_code ec) {
        server_->log(log_level::warning,
                     std::string("redis: ignored a malformed ") + what + ": " + ec.message());
    }

    void on_broadcast(name_space& nsp, std::string_view bytes) {
        auto m = adapter::redis::decode_broadcast(bytes, opt_.max_attachments);
        if (!m)
            return reject("broadcast", m.error());
        if (m->uid == uid_ || m->nsp != nsp.name())
            return; // this server's own, or another namespace's
        nsp.broadcast_payload({std::move(m->args), std::move(m->attachments)}, m->opt);
    }

    void on_request(std::shared_ptr<name_space> const& nsp, std::string_view bytes) {
        using adapter::redis::request_type;
        std::vector<std::string> attachments;
        auto r = adapter::redis::decode_message(bytes, attachments, opt_.max_attachments);
        if (!r)
            return reject("request", r.error());
        auto& req = *r;
        auto const type = static_cast<request_type>(adapter::redis::type_of(req));
        auto const id = adapter::redis::string_of(req, "requestId");
        auto const from = adapter::redis::string_of(req, "uid");
        auto const* opts = req.if_contains("opts");
        auto const name = nsp->name();
        switch (type) {
        case request_type::sockets:
        case request_type::remote_fetch: {
            if (requests_.contains(id) || from == uid_)
                return; // this server's own request
            std::optional<adapter::broadcast_options> sel;
            if (type == request_type::remote_fetch) {
                sel = adapter::redis::selection_from(opts);
            } else if (auto rooms = adapter::redis::room_list(req.if_contains("rooms"))) {
                sel.emplace();
                sel->rooms = std::move(*rooms);
                sel->local = true;
            }
            if (!sel)
                return reject("request", adapter::redis::malformed_message());
            bool const ids_only = type == request_type::sockets;
            nsp->start_fetch(
                std::move(*sel),
                fetch_handler([this, name, from, id, ids_only](boost::system::error_code,
                                                               std::vector<remote_socket> found) {
                    boost::json::array list;
                    for (auto const& s : found) {
                        if (ids_only) {
                            list.emplace_back(s.id());
                            continue;
                        }
                        list.push_back(
                            boost::json::object{{"id", s.id()},
                                                {"handshake", handshake_json(s.handshake())},
                                                {"rooms", adapter::redis::room_array(s.rooms())},
                                                {"data", s.data()}});
                    }
                    respond(name, from,
                            boost::json::serialize(boost::json::object{
                                {"requestId", id}, {"sockets", std::move(list)}}));
                }));
            return;
        }
        case request_type::all_rooms:
            if (requests_.contains(id) || from == uid_)
                return;
            nsp->start_all_rooms(
                rooms_handler([this, name, from, id](boost::system::error_code,
                                                     std::vector<room_info> rooms) {
                    boost::json::array list;
                    for (auto const& r : rooms)
                        list.emplace_back(r.name);
                    respond(name, from,
                            boost::json::serialize(boost::json::object{
                                {"requestId", id}, {"rooms", std::move(list)}}));
                }),
                true);
            return;
        case request_type::remote_join:
        case request_type::remote_leave:
        case request_type::remote_disconnect:
            return on_socket_action(*nsp, type, req, from);
        case request_type::server_side_emit: {
            auto* data = req.if_contains("data");
            if (from == uid_ || !data || !data->is_array())
                return; // a server does not receive its own
            server_reply reply;
            if (req.contains("requestId")) {
                auto once = std::make_shared<std::atomic<bool>>(false);
                reply = [this, once, name, id](boost::json::value answer) {
                    if (once->exchange(true))
                        return;
                    // Always on the shared response channel, as Node's adapter does.
                    send(adapter::redis::channels(opt_.key, name).response,
                         boost::json::serialize(boost::json::object{
                             {"type", static_cast<std::int64_t>(request_type::server_side_emit)},
                             {"requestId", id},
                             {"data", std::move(answer)}}));
                };
            }
            nsp->call_server_side(std::move(data->get_array()), std::move(reply));
            return;
        }
        case request_type::broadcast: {
            if (acks_.contains(id) || from == uid_)
                return;
            auto* packet = req.if_contains("packet");
            if (!packet || !packet->is_object() ||
                !adapter::redis::check_event_packet(packet->get_object()))
                return reject("broadcast request", adapter::redis::malformed_message());
            auto sel = adapter::redis::selection_from(opts);
            if (!sel)
                return reject("broadcast request", adapter::redis::malformed_message());
            auto timeout = opt_.requests_timeout;
            if (auto const* o = opts ? opts->if_object() : nullptr)
                if (auto const* f = o->if_contains("flags"); f && f->is_object())
                    if (auto const t = adapter::redis::whole_number(
                            f->get_object().if_contains("timeout"), max_ack_timeout_ms))
                        timeout = std::chrono::milliseconds(*t);
            payload p{std::move(packet->get_object()["data"].get_array()), std::move(attachments)};
            nsp->broadcast_with_ack_local(
                std::move(p), *sel, timeout,
                {.client_count =
                     [this, name, from, id](std::size_t n) {
                         respond(name, from,
                                 boost::json::serialize(boost::json::object{
                                     {"type", static_cast<std::int64_t>(
                                                  request_type::broadcast_client_count)},
                                     {"requestId", id},
                                     {"clientCount", n}}));
                     },
                 .answer =
                     [this, name, from, id](boost::json::value answer) {
                         respond(name, from, adapter::redis::encode_broadcast_ack(id, answer));
                     },
                 .gone = [] {}});
            return;
        }
        default:
            return; // a type this version does not know
        }
    }

    void on_socket_action(name_space& nsp, adapter::redis::request_type type,
                          boost::json::object const& req, std::string const& from) {
        using adapter::redis::request_type;
        auto const* opts = req.if_contains("opts");
        adapter::broadcast_options sel;
        std::vector<std::string> rooms;
        if (opts && opts->is_object()) {
            if (from == uid_)
                return; // done here already, when it was asked
            auto s = adapter::redis::selection_from(opts);
            auto r = adapter::redis::room_list(req.if_contains("rooms"));
            if (!s || !r)
                return reject("request", adapter::redis::malformed_message());
            sel = std::move(*s);
            rooms = std::move(*r);
        } else {
            // The older form, one socket by id: answered once done.
            auto sid = adapter::redis::string_of(req, "sid");
            if (sid.empty())
                return;
            sel.rooms = {std::move(sid)};
            sel.local = true;
            rooms = {adapter::redis::string_of(req, "room")};
        }
        if (type == request_type::remote_join) {
            nsp.for_each_socket(sel, [rooms](socket& s) { s.join(rooms); });
        } else if (type == request_type::remote_leave) {
            nsp.for_each_socket(sel, [rooms](socket& s) {
                for (auto const& r : rooms)
                    s.leave(r);
            });
        } else {
            auto const* c = req.if_contains("close");
            bool const close = c && c->is_bool() && c->get_bool();
            nsp.for_each_socket(sel, [close](socket& s) { s.disconnect(close); });
        }
        if (!opts || !opts->is_object())
            respond(nsp.name(), from,
                    boost::json::serialize(boost::json::object{
                        {"requestId", adapter::redis::string_of(req, "requestId")}}));
    }

    void on_response(std::string_view bytes) {
        using adapter::redis::request_type;
        std::vector<std::string> attachments;
        auto r = adapter::redis::decode_message(bytes, attachments, opt_.max_attachments);
        if (!r)
            return reject("response", r.error());
        auto& res = *r;
        auto const id = adapter::redis::string_of(res, "requestId");
        if (auto a = acks_.find(id); a != acks_.end()) {
            auto const type = static_cast<request_type>(adapter::redis::type_of(res));
            auto const* v = res.if_contains(
                type == request_type::broadcast_client_count ? "clientCount" : "packet");
            if (type == request_type::broadcast_client_count) {
                if (auto const n = adapter::redis::whole_number(v, max_client_count))
                    a->second.callbacks.client_count(static_cast<std::size_t>(*n));
            } else if (type == request_type::broadcast_ack) {
                a->second.callbacks.answer(v ? *v : boost::json::value());
            }
            return;
        }
        auto it = requests_.find(id);
        if (it == requests_.end())
            return; // another server's, or too late
        if (!it->second->take(res))
            return;
        auto done = std::move(it->second);
        requests_.erase(it);
        done->timer.reset();
        done->finish({});
    }

    server_core* server_;
    boost::asio::any_io_executor ex_;
    redis_options opt_;
    std::string const uid_; // read from any thread: never changes
    std::shared_ptr<adapter::redis::connection> pub_;
    std::shared_ptr<adapter::redis::connection> sub_;
    bool up_[2] = {false, false}; // publishing, subscribing
    bool closed_ = false;
    bool dropping_ = false; // a publish failed since the last connect: logged once
    bool reported_ = false; // the state was reported at least once
    std::map<std::string, std::weak_ptr<name_space>, std::less<>> patterns_;
    std::map<std::string, channel_entry, std::less<>> channels_;
    std::map<std::string, std::shared_ptr<pending_request>, std::less<>> requests_;
    std::map<std::string, ack_request, std::less<>> acks_;
};

} // namespace roomcast::detail

#endif
