// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_DETAIL_COMPLETE_HPP
#define ROOMCAST_DETAIL_COMPLETE_HPP

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

#include <tuple>
#include <utility>

namespace roomcast::detail {

/// Completes an asynchronous operation's handler `h` with `args`: never inside the caller
/// (which may be iterating over state the handler changes), first through `home`'s queue (a
/// shard), then on the handler's associated executor (the shard itself for a plain callback).
/// Two steps because Boost 1.81 cannot `post` to the type-erased executor of an
/// `any_completion_handler`; it can `dispatch` to it.
template<class Handler, class... Args>
void complete_on(boost::asio::any_io_executor const& home, Handler h, Args... args) {
    boost::asio::post(
        home, [home, h = std::move(h), args = std::make_tuple(std::move(args)...)]() mutable {
            auto ex = boost::asio::get_associated_executor(h, home);
            boost::asio::dispatch(ex, [h = std::move(h), args = std::move(args)]() mutable {
                std::apply(std::move(h), std::move(args));
            });
        });
}

} // namespace roomcast::detail

#endif
