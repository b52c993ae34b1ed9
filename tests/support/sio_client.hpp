// Socket.IO steps over a raw_client, for the in-process server tests.
#ifndef ROOMCAST_TESTS_SIO_CLIENT_HPP
#define ROOMCAST_TESTS_SIO_CLIENT_HPP

#include "catch.hpp"
#include "raw_client.hpp"

#include <boost/json/parse.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace roomcast::test {

/// Opens an Engine.IO session and connects to `nsp`; returns the socket id.
inline std::string connect(raw_client& c, std::uint16_t port, std::string const& nsp = "/") {
    REQUIRE(!c.connect(port));
    REQUIRE(c.read().value_or("").substr(0, 1) == "0");
    c.write(nsp == "/" ? "40" : "40" + nsp + ",");
    auto const answer = c.read_packet().value_or("");
    auto const prefix = nsp == "/" ? std::string("40") : "40" + nsp + ",";
    REQUIRE(answer.substr(0, prefix.size()) == prefix);
    return std::string(
        boost::json::parse(answer.substr(prefix.size())).as_object().at("sid").as_string());
}

/// Reads packets until `pred` matches one; nullopt when none came within 3 s of the last.
template<class Pred>
std::optional<std::string> read_until(raw_client& c, Pred pred) {
    for (;;) {
        auto m = c.read_packet(3s);
        if (!m || pred(*m))
            return m;
    }
}

} // namespace roomcast::test

#endif
