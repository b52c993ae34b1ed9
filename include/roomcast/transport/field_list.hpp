// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_TRANSPORT_FIELD_LIST_HPP
#define ROOMCAST_TRANSPORT_FIELD_LIST_HPP

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>

namespace roomcast::transport {

/// Name/value pairs in the order they were added (HTTP headers, query parameters), kept in one
/// buffer: a connection holds its handshake's for its whole life, so they should cost one
/// small allocation, not two strings each. Iterating yields `std::pair<std::string_view,
/// std::string_view>`.
class field_list {
public:
    using value_type = std::pair<std::string_view, std::string_view>;

    class const_iterator {
    public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = field_list::value_type;
        using difference_type = std::ptrdiff_t;
        using pointer = void;
        using reference = value_type;

        const_iterator() = default;
        value_type operator*() const noexcept {
            auto const name = read(pos_);
            return {name, read(name.data() + name.size())};
        }
        const_iterator& operator++() noexcept {
            auto const value = read(read(pos_).data() + read(pos_).size());
            pos_ = value.data() + value.size();
            return *this;
        }
        const_iterator operator++(int) noexcept {
            auto old = *this;
            ++*this;
            return old;
        }
        friend bool operator==(const_iterator, const_iterator) = default;

    private:
        friend class field_list;
        explicit const_iterator(char const* p) noexcept
            : pos_(p) {}
        // Each item is a 32-bit length, then its bytes.
        static std::string_view read(char const* p) noexcept {
            std::uint32_t n;
            std::memcpy(&n, p, sizeof n);
            return {p + sizeof n, n};
        }
        char const* pos_ = nullptr;
    };

    /// Appends a pair (a name may occur several times).
    void add(std::string_view name, std::string_view value) {
        put(name);
        put(value);
        ++size_;
    }

    /// The first value of `name`, or empty. Names compare exactly.
    std::string_view find(std::string_view name) const noexcept {
        for (auto [k, v] : *this)
            if (k == name)
                return v;
        return {};
    }

    const_iterator begin() const noexcept { return const_iterator(data_.data()); }
    const_iterator end() const noexcept { return const_iterator(data_.data() + data_.size()); }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }

    /// Gives back the room reserved while building.
    void shrink_to_fit() { data_.shrink_to_fit(); }

    friend bool operator==(field_list const&, field_list const&) = default;

private:
    void put(std::string_view s) {
        auto const n = static_cast<std::uint32_t>(s.size());
        data_.append(reinterpret_cast<char const*>(&n), sizeof n);
        data_.append(s);
    }

    std::string data_;
    std::size_t size_ = 0;
};

} // namespace roomcast::transport

#endif
