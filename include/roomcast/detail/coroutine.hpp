// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_DETAIL_COROUTINE_HPP
#define ROOMCAST_DETAIL_COROUTINE_HPP

// What lets handlers and middleware be coroutines (`asio::awaitable<T>`): they are spawned on
// the socket's shard, and what they return or throw is handled when they finish.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>

#include <exception>
#include <string>
#include <type_traits>

namespace roomcast::detail {

template<class T>
struct awaitable_traits : std::false_type {};
template<class T, class E>
struct awaitable_traits<boost::asio::awaitable<T, E>> : std::true_type {
    using value_type = T;
};

template<class T>
inline constexpr bool is_awaitable = awaitable_traits<T>::value;

/// The message of an exception, for error hooks and refusals.
inline std::string what_of(std::exception_ptr e) {
    try {
        std::rethrow_exception(e);
    } catch (std::exception const& x) {
        return x.what();
    } catch (...) {
        return "unknown exception";
    }
}

} // namespace roomcast::detail

#endif
