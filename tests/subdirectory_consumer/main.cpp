// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
// Only the version header: the point is the target's include path and link line, and a TU
// with the whole library would cost a minute of compile time.
#include <roomcast/version.hpp>

#include <cstdio>

static_assert(ROOMCAST_VERSION >= 100);

int main() {
    return std::puts("roomcast " ROOMCAST_VERSION_STRING) < 0 ? 1 : 0;
}
