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
/// (one small allocation, the fastest walk), and past `small_max` they move to a hash set,
/// allocated only then. Order is unspecified.
class member_set {
public:
    static constexpr std::size_t small_max = 16;

    /// Adds `m`; false if it was there already.
    bool insert(member* m) {
        if (big_)
            return big_->insert(m).second;
        if (small_.empty()) {
            if (!one_) {
                one_ = m;
                return true;
            }
            if (one_ == m)
                return false;
            small_.reserve(4);
            small_.push_back(std::exchange(one_, nullptr));
            small_.push_back(m);
            return true;
        }
        if (std::find(small_.begin(), small_.end(), m) != small_.end())
            return false;
        if (small_.size() < small_max) {
            small_.push_back(m);
            return true;
        }
        // Built aside and installed last: a bad_alloc leaves the vector form as it was.
        auto big = std::make_unique<boost::unordered_flat_set<member*>>();
        big->reserve(small_max * 2);
        big->insert(small_.begin(), small_.end());
        big->insert(m);
        big_ = std::move(big);
        std::vector<member*>().swap(small_);
        return true;
    }

    /// Removes `m`; false if it was not there.
    bool erase(member* m) {
        if (big_) {
            if (big_->erase(m) == 0)
                return false;
            if (big_->empty())
                big_.reset();
            return true;
        }
        if (small_.empty()) {
            if (!m || one_ != m)
                return false;
            one_ = nullptr;
            return true;
        }
        auto it = std::find(small_.begin(), small_.end(), m);
        if (it == small_.end())
            return false;
        *it = small_.back();
        small_.pop_back();
        return true;
    }

    bool contains(member* m) const {
        if (big_)
            return big_->contains(m);
        if (small_.empty())
            return m && one_ == m;
        return std::find(small_.begin(), small_.end(), m) != small_.end();
    }

    std::size_t size() const noexcept {
        if (big_)
            return big_->size();
        return small_.empty() ? (one_ ? 1 : 0) : small_.size();
    }
    bool empty() const noexcept { return size() == 0; }

    /// Calls `f(member*)` for each member; `f` must not change this set.
    template<class F>
    void for_each(F&& f) const {
        if (big_) {
            for (member* m : *big_)
                f(m);
        } else if (!small_.empty()) {
            for (member* m : small_)
                f(m);
        } else if (one_) {
            f(one_);
        }
    }

private:
    member* one_ = nullptr; // the only member, while small_ and big_ are empty
    std::vector<member*> small_;
    std::unique_ptr<boost::unordered_flat_set<member*>> big_;
};

} // namespace roomcast::adapter::detail

#endif
