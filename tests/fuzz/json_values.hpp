// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_TESTS_FUZZ_JSON_VALUES_HPP
#define ROOMCAST_TESTS_FUZZ_JSON_VALUES_HPP

// What the fuzz targets over JSON share.

#include <boost/json/value.hpp>

#include <cmath>

namespace roomcast::fuzz {

/// Whether `v` holds an infinite or NaN number anywhere: such values do not survive JSON text
/// (they are written as null), so round-trip checks skip them.
inline bool holds_non_finite(boost::json::value const& v) {
    if (v.is_double())
        return !std::isfinite(v.get_double());
    if (auto const* a = v.if_array()) {
        for (auto const& e : *a)
            if (holds_non_finite(e))
                return true;
    } else if (auto const* o = v.if_object()) {
        for (auto const& kv : *o)
            if (holds_non_finite(kv.value()))
                return true;
    }
    return false;
}

} // namespace roomcast::fuzz

#endif
