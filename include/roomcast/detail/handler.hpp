// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_DETAIL_HANDLER_HPP
#define ROOMCAST_DETAIL_HANDLER_HPP

// Turns a typed handler `f(socket&, T1, T2, ..., [ack])` into the one signature the registry
// stores: the parameter list is the schema of the event's arguments.

#include <roomcast/convert.hpp>
#include <roomcast/detail/coroutine.hpp>
#include <roomcast/detail/fwd.hpp>
#include <roomcast/middleware.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/array.hpp>
#include <boost/mp11/algorithm.hpp>
#include <boost/mp11/list.hpp>

#include <cstdint>
#include <exception>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

namespace roomcast {

/// A handler that could not run (its arguments did not convert) or that threw.
struct handler_error {
    std::string event;            ///< the event name
    std::string message;          ///< e.g. `event "joinRoom": argument 1: field .roomName: ...`
    std::exception_ptr exception; ///< what the handler threw; null for conversion errors
};

namespace detail {

/// One incoming event, as the registry hands it to a handler.
struct event_call {
    std::string_view event;
    /// The packet's data: args[0] is the event name. The handler is its last reader, so it
    /// may take the arguments over (a JSON parameter is moved out, not copied).
    boost::json::array& args;
    std::optional<std::uint64_t> ack_id;
    std::span<std::string const> attachments = {}; ///< what binary placeholders stand for
};

using event_handler = std::function<void(socket&, event_call const&)>;

template<class F>
struct callable_traits : callable_traits<decltype(&F::operator())> {};
template<class R, class... A>
struct callable_traits<R (*)(A...)> {
    using result = R;
    using params = boost::mp11::mp_list<A...>;
};
template<class R, class... A>
struct callable_traits<R (*)(A...) noexcept> : callable_traits<R (*)(A...)> {};
template<class C, class R, class... A>
struct callable_traits<R (C::*)(A...)> : callable_traits<R (*)(A...)> {};
template<class C, class R, class... A>
struct callable_traits<R (C::*)(A...) const> : callable_traits<R (*)(A...)> {};
template<class C, class R, class... A>
struct callable_traits<R (C::*)(A...) noexcept> : callable_traits<R (*)(A...)> {};
template<class C, class R, class... A>
struct callable_traits<R (C::*)(A...) const noexcept> : callable_traits<R (*)(A...)> {};

/// Reports a handler that could not run or threw: to the namespace's error hook and, if the
/// client asked for an acknowledgement not yet answered, through `a` as `{"error": message}`.
/// A template so that calls from handler templates are dependent: `ack` need only be
/// complete when they are instantiated. Defined with the core.
template<class Ack>
void report_handler_error(socket& s, std::string_view event, Ack& a, std::string message,
                          std::exception_ptr ex);
/// Sends `p` through `a` (a template for the same reason).
template<class Ack>
void send_ack(Ack& a, payload p);
/// The `ack` object for `ack_id`: every answer to one event goes through it, so that it is
/// answered once and counts as in flight until then.
template<bool = true>
ack make_ack(socket& s, std::optional<std::uint64_t> ack_id);
/// The socket's shard executor, and a reference that keeps the socket alive while a
/// coroutine handler runs.
boost::asio::any_io_executor executor_of(socket& s);
std::shared_ptr<socket> keep_alive(socket& s);

template<class P>
using value_of = std::remove_cvref_t<P>;

/// Reports that the handler of `event` threw `e`.
template<class Ack>
void report_throw(socket& s, std::string_view event, Ack& a, std::exception_ptr e) {
    report_handler_error(s, event, a,
                         "event \"" + std::string(event) + "\": handler threw: " + what_of(e), e);
}

/// What a coroutine handler needs once it finished: its socket (kept alive), event and ack.
template<class Ack>
struct coroutine_call {
    std::shared_ptr<socket> s;
    std::string event;
    Ack answer;
};

/// The JSON of kind `T` that `v` holds, or null.
template<class T>
T* if_json(boost::json::value& v) noexcept {
    if constexpr (std::is_same_v<T, boost::json::value>)
        return &v;
    else if constexpr (std::is_same_v<T, boost::json::object>)
        return v.if_object();
    else if constexpr (std::is_same_v<T, boost::json::array>)
        return v.if_array();
    else
        return v.if_string();
}

/// Converts argument `I` of `call` for a parameter of type `T`; an `arguments` parameter
/// takes every argument from `I` on. Arguments that stay JSON are moved out of the packet.
template<std::size_t I, class T>
bool convert_argument(event_call const& call, T& out, conversion_error& err) {
    auto* const v = I + 1 < call.args.size() ? &call.args[I + 1] : nullptr;
    if constexpr (std::is_same_v<T, arguments>) {
        if (v)
            out.insert(out.end(), std::make_move_iterator(call.args.begin() + (I + 1)),
                       std::make_move_iterator(call.args.end()));
        out.attachments.assign(call.attachments.begin(), call.attachments.end());
        return true;
    } else {
        if constexpr (is_json_type<T>) {
            if (auto* j = v ? if_json<T>(*v) : nullptr) {
                out = std::move(*j);
                return true;
            }
        }
        return from_json(v, out, err, call.attachments); // converts, or says why not
    }
}

template<bool HasAck, class R, class F, class... P, std::size_t... I>
void invoke_typed(F& f, socket& s, event_call const& call, boost::mp11::mp_list<P...>,
                  std::index_sequence<I...>) {
    auto answer = make_ack<HasAck>(s, call.ack_id);
    std::tuple<value_of<P>...> values;
    conversion_error err;
    std::size_t failed = 0;
    bool ok = true;
    ((ok = ok && (convert_argument<I>(call, std::get<I>(values), err) || ((failed = I), false))),
     ...);
    if (!ok) {
        std::string m = "event \"" + std::string(call.event) + "\": argument " +
                        std::to_string(failed + 1) + ": " + err.message();
        report_handler_error(s, call.event, answer, std::move(m), nullptr);
        return;
    }
    auto const run = [&](std::tuple<value_of<P>...>& v) -> decltype(auto) {
        if constexpr (HasAck)
            return f(s, static_cast<P&&>(std::get<I>(v))..., answer);
        else
            return f(s, static_cast<P&&>(std::get<I>(v))...);
    };
    try {
        if constexpr (is_awaitable<R>) {
            // The arguments live as long as the coroutine, which may refer to them.
            auto args = std::make_shared<std::tuple<value_of<P>...>>(std::move(values));
            using T = typename awaitable_traits<R>::value_type;
            coroutine_call<decltype(answer)> fin{keep_alive(s), std::string(call.event), answer};
            if constexpr (std::is_void_v<T>) {
                boost::asio::co_spawn(executor_of(s), run(*args),
                                      [fin, args](std::exception_ptr e) mutable {
                                          if (e)
                                              report_throw(*fin.s, fin.event, fin.answer, e);
                                      });
            } else {
                boost::asio::co_spawn(
                    executor_of(s), run(*args), [fin, args](std::exception_ptr e, T r) mutable {
                        if (e)
                            report_throw(*fin.s, fin.event, fin.answer, e);
                        else
                            send_ack(fin.answer, make_payload(std::nullopt, std::move(r)));
                    });
            }
        } else if constexpr (std::is_void_v<R>) {
            run(values);
        } else {
            // A returned value answers the acknowledgement.
            decltype(auto) r = run(values);
            send_ack(answer, make_payload(std::nullopt, std::forward<decltype(r)>(r)));
        }
    } catch (...) {
        report_throw(s, call.event, answer, std::current_exception());
    }
}

/// Stores middleware `f(socket&, A..., next)`. A coroutine (returning
/// `asio::awaitable<void>`) is spawned on the socket's shard; what it throws refuses.
template<class... A, class F>
std::function<void(socket&, A..., next)> make_middleware(F&& f) {
    using G = std::decay_t<F>;
    if constexpr (is_awaitable<std::invoke_result_t<G&, socket&, A..., next>>) {
        return [f = G(std::forward<F>(f))](auto& s, A... a, next n) mutable {
            boost::asio::co_spawn(executor_of(s), f(s, a..., n),
                                  [keep = keep_alive(s), n](std::exception_ptr e) {
                                      if (e)
                                          n(connect_error{what_of(e)});
                                  });
        };
    } else {
        return G(std::forward<F>(f));
    }
}

/// The parameters that carry event arguments: all but a trailing ack.
template<bool HasAck, class L>
struct value_params {
    using type = L;
};
template<class L>
struct value_params<true, L> {
    using type = boost::mp11::mp_pop_back<L>;
};

/// Wraps `f(socket&, T...)`, `f(socket&, T..., ack)` or a function returning the ack value.
template<class F>
event_handler make_event_handler(F f) {
    using traits = callable_traits<std::decay_t<F>>;
    using params = typename traits::params;
    static_assert(boost::mp11::mp_size<params>::value >= 1 &&
                      std::is_same_v<boost::mp11::mp_front<params>, socket&>,
                  "an event handler's first parameter must be roomcast::socket&");
    using rest = boost::mp11::mp_pop_front<params>;
    constexpr bool has_ack = [] {
        if constexpr (boost::mp11::mp_size<rest>::value == 0)
            return false;
        else
            return std::is_same_v<value_of<boost::mp11::mp_back<rest>>, ack>;
    }();
    using values = typename value_params<has_ack, rest>::type;
    using R = typename traits::result;
    static_assert(
        !(has_ack && !std::is_void_v<R> && !std::is_same_v<R, boost::asio::awaitable<void>>),
        "a handler answers its ack either by an ack parameter or by returning, not both");
    return [f = std::move(f)](socket& s, event_call const& call) mutable {
        invoke_typed<has_ack, R>(f, s, call, values{},
                                 std::make_index_sequence<boost::mp11::mp_size<values>::value>{});
    };
}

} // namespace detail
} // namespace roomcast

#endif
