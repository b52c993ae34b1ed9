// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_TESTS_FUZZ_CHECK_HPP
#define ROOMCAST_TESTS_FUZZ_CHECK_HPP

// What the fuzz targets share: an invariant check that stays on whatever NDEBUG says, and
// aborts so that libFuzzer keeps the input as a crash reproducer.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#define ROOMCAST_FUZZ_CHECK(cond)                                                                  \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            std::fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond);      \
            std::abort();                                                                          \
        }                                                                                          \
    } while (false)

namespace roomcast::fuzz {

inline std::string_view as_text(std::uint8_t const* data, std::size_t size) noexcept {
    return {reinterpret_cast<char const*>(data), size};
}

} // namespace roomcast::fuzz

#endif
