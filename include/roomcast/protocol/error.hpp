// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_PROTOCOL_ERROR_HPP
#define ROOMCAST_PROTOCOL_ERROR_HPP

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <string>
#include <type_traits>

namespace roomcast::protocol {

/// Why a packet from the wire was rejected by the codec.
enum class error {
    empty_packet = 1,    ///< zero bytes where a packet was expected
    unknown_packet_type, ///< the type digit is not one the protocol defines
    invalid_base64,      ///< a `b`-prefixed polling item is not base64
    invalid_attachments, ///< BINARY_* header is not `<digits>-`, or over the limit
    invalid_namespace,   ///< namespace not terminated or too long
    invalid_ack_id,      ///< ack id does not fit in 2^53 - 1 (JavaScript's safe integers)
    invalid_json,        ///< the payload is not JSON
    invalid_payload,     ///< JSON of the wrong shape for the packet type (Socket.IO v5 §"payload")
    unexpected_attachment, ///< a binary frame arrived when no BINARY_* packet was waiting for it
    too_large,             ///< over a configured size limit
};

namespace detail {
class error_category final : public boost::system::error_category {
public:
    char const* name() const noexcept override { return "roomcast.protocol"; }
    std::string message(int ev) const override {
        switch (static_cast<error>(ev)) {
        case error::empty_packet:
            return "empty packet";
        case error::unknown_packet_type:
            return "unknown packet type";
        case error::invalid_base64:
            return "invalid base64 in polling payload";
        case error::invalid_attachments:
            return "invalid binary attachment count";
        case error::invalid_namespace:
            return "invalid namespace";
        case error::invalid_ack_id:
            return "invalid ack id";
        case error::invalid_json:
            return "invalid JSON";
        case error::invalid_payload:
            return "invalid payload for packet type";
        case error::unexpected_attachment:
            return "unexpected binary attachment";
        case error::too_large:
            return "packet too large";
        }
        return "unknown protocol error";
    }
};
} // namespace detail

inline boost::system::error_category const& protocol_category() noexcept {
    static detail::error_category const cat;
    return cat;
}

inline boost::system::error_code make_error_code(error e) noexcept {
    return {static_cast<int>(e), protocol_category()};
}

template<class T>
using result = boost::system::result<T>;

} // namespace roomcast::protocol

template<>
struct boost::system::is_error_code_enum<roomcast::protocol::error> : std::true_type {};

#endif
