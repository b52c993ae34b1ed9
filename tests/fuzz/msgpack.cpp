// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
//
// Fuzz target: the MessagePack codec (roomcast/protocol/msgpack.hpp) on what a Redis adapter
// reads from the channel its peers publish on. The input is one message.
//
// Decoding never crashes or throws, and a failure leaves no attachment. A success keeps the
// limits (depth, attachments, no more attachment bytes than the input), numbers its
// placeholders 0, 1, ... in document order, and encodes, in notepack.io's forms, to bytes at
// most a few times the input that decode to the same JSON and attachments and encode to the
// same bytes again.

#include "check.hpp"

#include <roomcast/protocol/msgpack.hpp>
#include <roomcast/protocol/socketio.hpp>

#include <boost/json/value.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mp = roomcast::protocol::msgpack;
namespace sio = roomcast::protocol::socketio;

namespace {

// The defaults, as the Redis adapter decodes.
constexpr mp::decode_options options{};

/// Equality as JavaScript sees the values: one number type (NaN equal to itself here: the
/// same bits come back), object keys in the same order.
bool same(boost::json::value const& a, boost::json::value const& b) {
    if (a.is_number() && b.is_number()) {
        auto const x = a.to_number<double>();
        auto const y = b.to_number<double>();
        if (std::isnan(x) || std::isnan(y))
            return std::isnan(x) && std::isnan(y);
        // Integers of one kind compare exactly: doubles would hide a change past 2^53.
        if (!a.is_double() && a.kind() == b.kind())
            return a == b;
        return x == y;
    }
    if (a.kind() != b.kind())
        return false;
    if (auto const* x = a.if_array()) {
        auto const& y = b.get_array();
        if (x->size() != y.size())
            return false;
        for (std::size_t i = 0; i < x->size(); ++i)
            if (!same((*x)[i], y[i]))
                return false;
        return true;
    }
    if (auto const* x = a.if_object()) {
        auto const& y = b.get_object();
        if (x->size() != y.size())
            return false;
        for (auto i = x->begin(), j = y.begin(); i != x->end(); ++i, ++j)
            if (i->key() != j->key() || !same(i->value(), j->value()))
                return false;
        return true;
    }
    return a == b;
}

/// The placeholder indices of `v` in document order, and its nesting depth.
void walk(boost::json::value const& v, std::size_t depth, std::vector<std::size_t>& indices,
          std::size_t& max_depth) {
    if (auto const i = sio::placeholder_index(v)) {
        indices.push_back(*i);
        return;
    }
    if (auto const* a = v.if_array()) {
        max_depth = std::max(max_depth, depth + 1);
        for (auto const& e : *a)
            walk(e, depth + 1, indices, max_depth);
    } else if (auto const* o = v.if_object()) {
        max_depth = std::max(max_depth, depth + 1);
        for (auto const& kv : *o)
            walk(kv.value(), depth + 1, indices, max_depth);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    auto const in = roomcast::fuzz::as_text(data, size);
    std::vector<std::string> attachments{"left over"};
    auto const r = mp::decode(in, attachments, options);
    if (!r) {
        ROOMCAST_FUZZ_CHECK(r.error().category() == mp::msgpack_category());
        ROOMCAST_FUZZ_CHECK(attachments.empty());
        return 0;
    }
    auto const& v = *r;

    ROOMCAST_FUZZ_CHECK(attachments.size() <= options.max_attachments);
    std::size_t bytes = 0;
    for (auto const& a : attachments)
        bytes += a.size();
    ROOMCAST_FUZZ_CHECK(bytes <= size);
    std::vector<std::size_t> indices;
    std::size_t depth = 0;
    walk(v, 0, indices, depth);
    ROOMCAST_FUZZ_CHECK(depth <= options.max_depth);
    // With attachments, each is named once, in order; without, a map shaped like a placeholder
    // is a map like any other.
    if (!attachments.empty()) {
        ROOMCAST_FUZZ_CHECK(indices.size() == attachments.size());
        for (std::size_t i = 0; i < indices.size(); ++i)
            ROOMCAST_FUZZ_CHECK(indices[i] == i);
    }

    // Encoding writes integers, floats, strings and lengths in their shortest forms, so it
    // writes no more than the input but where text is made of numbers: a timestamp (6 bytes)
    // becomes its 24-character date, an integer key (-32, 1 byte) its decimal text.
    auto const wire = mp::encode(v, attachments);
    ROOMCAST_FUZZ_CHECK(wire.size() <= 5 * size);
    std::vector<std::string> again;
    auto const r2 = mp::decode(wire, again, options);
    ROOMCAST_FUZZ_CHECK(r2.has_value());
    ROOMCAST_FUZZ_CHECK(same(*r2, v));
    ROOMCAST_FUZZ_CHECK(again == attachments);
    ROOMCAST_FUZZ_CHECK(mp::encode(*r2, again) == wire);
    return 0;
}
