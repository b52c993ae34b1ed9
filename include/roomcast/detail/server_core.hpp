// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_DETAIL_SERVER_CORE_HPP
#define ROOMCAST_DETAIL_SERVER_CORE_HPP

#include <roomcast/detail/fwd.hpp>
#include <roomcast/detail/nsp_shard.hpp>
#include <roomcast/options.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/unordered/unordered_flat_set.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace roomcast::detail {

/// One thread's share of the server: an io_context and the connections that live on it.
struct shard {
    shard(std::size_t i, boost::asio::io_context& c)
        : index(i)
        , ctx(&c) {}
    explicit shard(std::size_t i)
        : index(i)
        , owned(std::make_unique<boost::asio::io_context>(1))
        , ctx(owned.get()) {}

    std::size_t index;
    std::unique_ptr<boost::asio::io_context> owned; // null when the host owns the context
    boost::asio::io_context* ctx;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work;
    boost::unordered_flat_set<client*> clients; // touched only on this shard's thread
};

/// What every server has whatever its Transport and Adapter: options, namespaces, shards.
class server_core {
public:
    options const& opts() const noexcept { return opt_; }

    /// The namespace called `name`, or null.
    name_space* find_namespace(std::string_view name) const {
        auto it = namespaces_.find(name);
        return it == namespaces_.end() ? nullptr : it->second.get();
    }

    std::size_t shard_count() const noexcept { return shards_.size(); }
    shard& shard_at(std::size_t i) noexcept { return *shards_[i]; }

    void log(log_level level, std::string_view line) const;

protected:
    explicit server_core(options opt)
        : opt_(std::move(opt)) {}
    ~server_core();

    using nsp_shard_factory = std::function<std::unique_ptr<nsp_shard_base>(shard&)>;

    /// The namespace called `name`, created (with a part on every shard) if needed.
    name_space& get_or_add_namespace(std::string_view name);
    /// Adds a shard and gives every namespace its part on it.
    shard& add_shard(std::unique_ptr<shard> s);

    options opt_;
    nsp_shard_factory make_nsp_shard_;
    std::map<std::string, std::unique_ptr<name_space>, std::less<>> namespaces_;
    std::vector<std::unique_ptr<shard>> shards_;
};

} // namespace roomcast::detail

#include <roomcast/impl/core.hpp>

#endif
