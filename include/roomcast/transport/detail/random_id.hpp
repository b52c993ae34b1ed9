// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_TRANSPORT_DETAIL_RANDOM_ID_HPP
#define ROOMCAST_TRANSPORT_DETAIL_RANDOM_ID_HPP

#include <array>
#include <cerrno>
#include <cstdint>
#include <random>
#include <string>

#if defined(__linux__)
#include <sys/random.h>
#endif

namespace roomcast::transport::detail {

/// Fills `out` from the operating system's CSPRNG.
inline void random_bytes(std::uint8_t* out, std::size_t n) {
#if defined(__linux__)
    while (n > 0) {
        auto const got = ::getrandom(out, n, 0);
        if (got > 0) {
            out += got;
            n -= static_cast<std::size_t>(got);
        } else if (errno != EINTR) {
            break; // no getrandom (seccomp, old kernel): the random_device below
        }
    }
#endif
    thread_local std::random_device rd; // /dev/urandom or the CPU's generator
    for (std::size_t i = 0; i < n; ++i)
        out[i] = static_cast<std::uint8_t>(rd());
}

/// A 20-character url-safe id with 120 random bits, like Engine.IO and Socket.IO ids.
inline std::string random_id() {
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::array<std::uint8_t, 15> b{};
    random_bytes(b.data(), b.size());
    std::string id(20, '\0');
    for (std::size_t i = 0, o = 0; i < b.size(); i += 3) {
        std::uint32_t const n =
            (std::uint32_t(b[i]) << 16) | (std::uint32_t(b[i + 1]) << 8) | b[i + 2];
        id[o++] = alphabet[(n >> 18) & 63];
        id[o++] = alphabet[(n >> 12) & 63];
        id[o++] = alphabet[(n >> 6) & 63];
        id[o++] = alphabet[n & 63];
    }
    return id;
}

} // namespace roomcast::transport::detail

#endif
