// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_DETAIL_INITIATE_HPP
#define ROOMCAST_DETAIL_INITIATE_HPP

#include <roomcast/convert.hpp>

#include <boost/asio/async_result.hpp>

#include <cstddef>
#include <string_view>
#include <tuple>
#include <utility>

namespace roomcast::detail {

/// Starts an asynchronous emit whose call reads `f(event, args..., token)`: converts the
/// arguments into a payload and calls `init(handler, payload)` with the handler the last
/// argument (a completion token for `Signature`) stands for.
template<class Signature, class Init, class... ArgsThenToken>
auto initiate_emit(Init&& init, std::string_view event, ArgsThenToken&&... args_then_token) {
    static_assert(sizeof...(ArgsThenToken) >= 1, "the last argument of emit_with_ack is a "
                                                 "completion token (a callback, "
                                                 "asio::use_awaitable...)");
    constexpr std::size_t n = sizeof...(ArgsThenToken) - 1;
    auto refs = std::forward_as_tuple(std::forward<ArgsThenToken>(args_then_token)...);
    auto p = [&]<std::size_t... I>(std::index_sequence<I...>) {
        return make_payload(event, std::get<I>(refs)...);
    }
    (std::make_index_sequence<n>{});
    return boost::asio::async_initiate<std::tuple_element_t<n, std::tuple<ArgsThenToken...>>,
                                       Signature>(std::forward<Init>(init), std::get<n>(refs),
                                                  std::move(p));
}

} // namespace roomcast::detail

#endif
