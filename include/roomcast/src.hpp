// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_SRC_HPP
#define ROOMCAST_SRC_HPP

// Include in exactly one source file of a program built with ROOMCAST_SEPARATE_COMPILATION
// (see <roomcast/transport/config.hpp>).

#if !defined(ROOMCAST_SEPARATE_COMPILATION)
#error "<roomcast/src.hpp> is for programs that define ROOMCAST_SEPARATE_COMPILATION"
#endif

#include <roomcast/transport/impl/websocket.ipp>

#endif
