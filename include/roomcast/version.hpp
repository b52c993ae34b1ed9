// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_VERSION_HPP
#define ROOMCAST_VERSION_HPP

/// roomcast's semantic version: major * 10000 + minor * 100 + patch.
#define ROOMCAST_VERSION 100
#define ROOMCAST_VERSION_STRING "0.1.0"

#endif
