// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_TRANSPORT_CONFIG_HPP
#define ROOMCAST_TRANSPORT_CONFIG_HPP

// roomcast is header-only by default. A program that builds many translation units may
// instead define ROOMCAST_SEPARATE_COMPILATION everywhere and include <roomcast/src.hpp> in
// exactly one source file: the Beast-heavy transport is then compiled once, as Asio and
// Beast offer for themselves (BOOST_ASIO_SEPARATE_COMPILATION).

#if defined(ROOMCAST_SEPARATE_COMPILATION)
#define ROOMCAST_DECL
#else
#define ROOMCAST_HEADER_ONLY 1
#define ROOMCAST_DECL inline
#endif

#endif
