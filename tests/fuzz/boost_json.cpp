// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
//
// Boost.JSON compiled into the fuzz targets, with their sanitizers and coverage, so that a
// misuse of its parser or containers by roomcast is seen inside the library, not only at its
// edges. These definitions take precedence over the shared libboost_json.
#include <boost/json/src.hpp>
