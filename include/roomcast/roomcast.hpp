// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_ROOMCAST_HPP
#define ROOMCAST_ROOMCAST_HPP

/// roomcast: a Socket.IO v5 server with rooms for C++20 programs.

#include <roomcast/ack.hpp>
#include <roomcast/adapter/memory.hpp>
#include <roomcast/broadcast.hpp>
#include <roomcast/convert.hpp>
#include <roomcast/error.hpp>
#include <roomcast/middleware.hpp>
#include <roomcast/name_space.hpp>
#include <roomcast/options.hpp>
#include <roomcast/server.hpp>
#include <roomcast/socket.hpp>
#include <roomcast/static_files.hpp>
#include <roomcast/version.hpp>

#endif
