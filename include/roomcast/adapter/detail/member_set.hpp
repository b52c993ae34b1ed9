// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_ADAPTER_DETAIL_MEMBER_SET_HPP
#define ROOMCAST_ADAPTER_DETAIL_MEMBER_SET_HPP

#include <roomcast/adapter/member.hpp>

#include <boost/unordered/unordered_flat_set.hpp>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

namespace roomcast::adapter::detail {

/// The members of one room. Most rooms are small: every socket has its own room, with one
/// member, held inline without an allocation. A second member moves both to a short vector
/// (the fastest walk), and past `small_max` they move to a hash set. Both live behind one
/// pointer, so that the set is two pointers in the room table. Order is unspecified.
class member_set {
public:
    static constexpr std::size_t small_max = 16;

    /// Adds `m`; false if it was there already.
    bool insert(member* m) {
        if (!many_) {
            if (!one_) {
                one_ = m;
                return true;
            }
            if (one_ == m)
                return false;
            auto many = std::make_unique<many_members>();
            many->list.reserve(4);
            many->list.push_back(one_);
            many->list.push_back(m);
            many_ = std::move(many);
            one_ = nullptr;
            return true;
        }
        auto& all = *many_;
        if (all.hashed)
            return all.hashed->insert(m).second;
        if (std::find(all.list.begin(), all.list.end(), m) != all.list.end())
            return false;
        if (all.list.size() < small_max) {
            all.list.push_back(m);
            return true;
        }
        // Built aside and installed last: a bad_alloc leaves the vector form as it was.
        auto hashed = std::make_unique<boost::unordered_flat_set<member*>>();
        hashed->reserve(small_max * 2);
        hashed->insert(all.list.begin(), all.list.end());
        hashed->insert(m);
        all.hashed = std::move(hashed);
        std::vector<member*>().swap(all.list);
        return true;
    }

    /// Removes `m`; false if it was not there.
    bool erase(member* m) {
        if (!many_) {
            if (!m || one_ != m)
                return false;
            one_ = nullptr;
            return true;
        }
        auto& all = *many_;
        if (all.hashed) {
            if (all.hashed->erase(m) == 0)
                return false;
        } else {
            auto it = std::find(all.list.begin(), all.list.end(), m);
            if (it == all.list.end())
                return false;
            *it = all.list.back();
            all.list.pop_back();
        }
        if (all.size() == 0)
            many_.reset(); // empty: back to the inline form
        return true;
    }

    bool contains(member* m) const {
        if (!many_)
            return m && one_ == m;
        if (many_->hashed)
            return many_->hashed->contains(m);
        return std::find(many_->list.begin(), many_->list.end(), m) != many_->list.end();
    }

    std::size_t size() const noexcept { return many_ ? many_->size() : (one_ ? 1 : 0); }
    bool empty() const noexcept { return size() == 0; }

    /// Calls `f(member*)` for each member; `f` must not change this set.
    template<class F>
    void for_each(F&& f) const {
        if (!many_) {
            if (one_)
                f(one_);
        } else if (many_->hashed) {
            for (member* m : *many_->hashed)
                f(m);
        } else {
            for (member* m : many_->list)
                f(m);
        }
    }

private:
    /// Two members or more: a vector up to small_max, a hash set past it.
    struct many_members {
        std::vector<member*> list;
        std::unique_ptr<boost::unordered_flat_set<member*>> hashed;

        std::size_t size() const noexcept { return hashed ? hashed->size() : list.size(); }
    };

    member* one_ = nullptr; // the only member, while many_ is empty
    std::unique_ptr<many_members> many_;
};

static_assert(sizeof(member_set) == 2 * sizeof(void*), "a room table slot stays small");

} // namespace roomcast::adapter::detail

#endif
