// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_DETAIL_SERVER_CORE_HPP
#define ROOMCAST_DETAIL_SERVER_CORE_HPP

#include <roomcast/detail/cluster.hpp>
#include <roomcast/detail/fwd.hpp>
#include <roomcast/detail/nsp_shard.hpp>
#include <roomcast/handshake.hpp>
#include <roomcast/options.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/unordered/unordered_flat_set.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
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

/// Decides whether a dynamic parent namespace takes a name: `io.of(predicate)`.
using namespace_predicate = std::function<bool(std::string_view name, handshake_info const&)>;

/// What every server has whatever its Transport and Adapter: options, namespaces, shards.
///
/// Namespaces may be created at run time, from any shard, when a client connects to a name a
/// dynamic parent matches: `namespaces_` is guarded by `namespaces_mutex_`.
class server_core {
public:
    options const& opts() const noexcept { return opt_; }

    /// The namespace called `name`, or null.
    std::shared_ptr<name_space> find_namespace(std::string_view name) const;

    /// The namespace a client connecting to `name` joins, counted as attached (see
    /// `release_namespace`): an existing one, else a new child of the first dynamic parent
    /// that matches, else null.
    std::shared_ptr<name_space> attach_namespace(std::string_view name, handshake_info const& hs);
    /// A socket of `nsp` left it; an emptied child goes, if the options say so.
    void release_namespace(name_space& nsp);
    /// The children of a dynamic parent.
    std::vector<std::shared_ptr<name_space>> children_of(name_space const& parent) const;

    std::size_t shard_count() const noexcept { return shards_.size(); }
    shard& shard_at(std::size_t i) noexcept { return *shards_[i]; }
    /// The executor of the calling thread's shard, or of the first shard for other threads:
    /// where the completions of operations started there go by default.
    boost::asio::any_io_executor home_executor() const;

    void log(log_level level, std::string_view line) const;

    /// The node of a cluster adapter, or null: operations not flagged `local` reach the
    /// other servers of the cluster through it.
    detail::cluster* cluster_node() const noexcept { return cluster_.get(); }

protected:
    explicit server_core(options opt)
        : opt_(std::move(opt)) {}
    ~server_core();

    using nsp_shard_factory = std::function<std::unique_ptr<nsp_shard_base>(shard&)>;

    /// The namespace called `name`, created (with a part on every shard) if needed.
    name_space& get_or_add_namespace(std::string_view name);
    /// Adds a dynamic parent namespace matching names with `match`.
    name_space& add_parent_namespace(namespace_predicate match);
    /// Adds a shard and gives every namespace its part on it.
    shard& add_shard(std::unique_ptr<shard> s);

    options opt_;
    nsp_shard_factory make_nsp_shard_;
    mutable std::shared_mutex namespaces_mutex_;
    std::map<std::string, std::shared_ptr<name_space>, std::less<>> namespaces_;
    struct parent_entry {
        namespace_predicate match;
        std::shared_ptr<name_space> nsp;
    };
    std::vector<parent_entry> parents_; // in the order added; the first match wins
    std::vector<std::unique_ptr<shard>> shards_;
    /// Set once, before any namespace exists; told of every namespace made and dropped.
    std::unique_ptr<detail::cluster> cluster_;

private:
    /// A namespace with a part on every shard (namespaces_mutex_ held).
    std::shared_ptr<name_space> build(std::shared_ptr<name_space> n);
};

} // namespace roomcast::detail

#include <roomcast/impl/core.hpp>

#endif
