// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_TRANSPORT_DETAIL_URL_HPP
#define ROOMCAST_TRANSPORT_DETAIL_URL_HPP

#include <roomcast/transport/field_list.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace roomcast::transport::detail {

inline int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/// Percent-decoding; with `plus_is_space` (application/x-www-form-urlencoded, as in a query)
/// '+' is a space. A malformed escape is kept as is.
inline std::string percent_decode(std::string_view s, bool plus_is_space = true) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+' && plus_is_space) {
            out += ' ';
        } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
                   hex_value(s[i + 2]) >= 0) {
            out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

inline field_list parse_query(std::string_view q) {
    field_list out;
    while (!q.empty()) {
        auto const amp = q.find('&');
        auto const item = q.substr(0, amp);
        if (!item.empty()) {
            auto const eq = item.find('=');
            out.add(percent_decode(item.substr(0, eq)), eq == std::string_view::npos
                                                            ? std::string()
                                                            : percent_decode(item.substr(eq + 1)));
        }
        if (amp == std::string_view::npos)
            break;
        q.remove_prefix(amp + 1);
    }
    out.shrink_to_fit(); // kept for a connection's life
    return out;
}

} // namespace roomcast::transport::detail

#endif
