// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_ERROR_HPP
#define ROOMCAST_ERROR_HPP

#include <boost/system/error_code.hpp>

#include <string>
#include <type_traits>

namespace roomcast {

/// Errors the API layer reports to completion handlers.
enum class error {
    timeout = 1,  ///< no acknowledgement came within the timeout
    disconnected, ///< the socket disconnected before acknowledging
};

namespace detail {
class api_error_category final : public boost::system::error_category {
public:
    char const* name() const noexcept override { return "roomcast"; }
    std::string message(int ev) const override {
        switch (static_cast<error>(ev)) {
        case error::timeout:
            return "operation has timed out";
        case error::disconnected:
            return "socket has been disconnected";
        }
        return "unknown roomcast error";
    }
};
} // namespace detail

inline boost::system::error_category const& api_category() noexcept {
    static detail::api_error_category const cat;
    return cat;
}

inline boost::system::error_code make_error_code(error e) noexcept {
    return {static_cast<int>(e), api_category()};
}

} // namespace roomcast

template<>
struct boost::system::is_error_code_enum<roomcast::error> : std::true_type {};

#endif
