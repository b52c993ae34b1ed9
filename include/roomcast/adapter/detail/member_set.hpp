// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_ADAPTER_DETAIL_MEMBER_SET_HPP
#define ROOMCAST_ADAPTER_DETAIL_MEMBER_SET_HPP

#include <roomcast/adapter/member.hpp>

#include <boost/unordered/unordered_flat_set.hpp>

#include <algorithm>
#include <cstddef>
#include <vector>

namespace roomcast::adapter::detail {

/// The members of one room. Most rooms are small (every socket has its own room, with one
/// member), so a room holds a short vector (one small allocation, the fastest walk) and
/// becomes a hash set only once it grows past `small_max`. Order is unspecified.
class member_set {
public:
    static constexpr std::size_t small_max = 16;

    /// Adds `m`; false if it was there already.
    bool insert(member* m) {
        if (!big_.empty())
            return big_.insert(m).second;
        if (std::find(small_.begin(), small_.end(), m) != small_.end())
            return false;
        if (small_.size() < small_max) {
            small_.push_back(m);
            return true;
        }
        big_.reserve(small_max * 2);
        big_.insert(small_.begin(), small_.end());
        std::vector<member*>().swap(small_);
        return big_.insert(m).second;
    }

    /// Removes `m`; false if it was not there.
    bool erase(member* m) {
        if (!big_.empty())
            return big_.erase(m) != 0;
        auto it = std::find(small_.begin(), small_.end(), m);
        if (it == small_.end())
            return false;
        *it = small_.back();
        small_.pop_back();
        return true;
    }

    bool contains(member* m) const {
        if (!big_.empty())
            return big_.contains(m);
        return std::find(small_.begin(), small_.end(), m) != small_.end();
    }

    std::size_t size() const noexcept { return big_.empty() ? small_.size() : big_.size(); }
    bool empty() const noexcept { return size() == 0; }

    /// Calls `f(member*)` for each member; `f` must not change this set.
    template<class F>
    void for_each(F&& f) const {
        if (!big_.empty()) {
            for (member* m : big_)
                f(m);
        } else {
            for (member* m : small_)
                f(m);
        }
    }

private:
    std::vector<member*> small_;
    boost::unordered_flat_set<member*> big_; // once the room grew past small_max
};

} // namespace roomcast::adapter::detail

#endif
