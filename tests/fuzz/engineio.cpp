// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
//
// Fuzz target: the Engine.IO v4 codec (roomcast/protocol/engineio.hpp). The input is read
// three ways: as one text frame (decode_view, decode), as a long-polling payload
// (decode_payload, packets joined by \x1e, binary ones as `b<base64>`), and as bytes to
// base64-encode. Whatever decodes must encode back to what decodes to the same packets, and
// no decoded packet holds more bytes than the input had.

#include "check.hpp"

#include <roomcast/protocol/engineio.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace eio = roomcast::protocol::engineio;

namespace {

void text_frame(std::string_view in) {
    auto const v = eio::decode_view(in);
    auto const p = eio::decode(in);
    ROOMCAST_FUZZ_CHECK(v.has_value() == p.has_value());
    if (!v) {
        ROOMCAST_FUZZ_CHECK(v.error() == p.error());
        return;
    }
    // The view refers to the frame: its data is the frame after the type digit.
    ROOMCAST_FUZZ_CHECK(v->data.data() == in.data() + 1 && v->data.size() + 1 == in.size());
    ROOMCAST_FUZZ_CHECK(!v->binary && !p->binary);
    ROOMCAST_FUZZ_CHECK(p->type == v->type && p->data == v->data);
    ROOMCAST_FUZZ_CHECK(static_cast<int>(p->type) <= static_cast<int>(eio::packet_type::noop));
    // A text packet is its type digit and its data: encoding gives back the frame exactly.
    ROOMCAST_FUZZ_CHECK(eio::encode(*p) == in);
}

void polling_payload(std::string_view in) {
    auto const ps = eio::decode_payload(in);
    if (!ps)
        return;
    std::size_t separators = 0;
    for (char c : in)
        separators += c == eio::record_separator;
    ROOMCAST_FUZZ_CHECK(ps->size() == separators + 1);
    std::size_t bytes = 0;
    for (auto const& p : *ps) {
        bytes += p.data.size();
        if (p.binary)
            ROOMCAST_FUZZ_CHECK(p.type == eio::packet_type::message);
        else // the separator ends an item, so no text packet can hold one
            ROOMCAST_FUZZ_CHECK(p.data.find(eio::record_separator) == std::string::npos);
    }
    ROOMCAST_FUZZ_CHECK(bytes <= in.size());

    auto const again = eio::encode_payload(std::span<eio::packet const>(*ps));
    auto const back = eio::decode_payload(again);
    ROOMCAST_FUZZ_CHECK(back.has_value());
    ROOMCAST_FUZZ_CHECK(*back == *ps);
    // What the server writes is canonical: it encodes back to itself.
    ROOMCAST_FUZZ_CHECK(eio::encode_payload(std::span<eio::packet const>(*back)) == again);
}

void base64(std::string_view in) {
    // Any bytes survive encoding and decoding.
    std::string enc;
    eio::base64_encode_to(enc, in);
    ROOMCAST_FUZZ_CHECK(enc.size() == (in.size() + 2) / 3 * 4);
    auto const dec = eio::base64_decode(enc);
    ROOMCAST_FUZZ_CHECK(dec.has_value() && *dec == in);

    // Decoding the input itself: never more than 3 bytes for every 4 characters.
    auto const raw = eio::base64_decode(in);
    if (!raw)
        return;
    ROOMCAST_FUZZ_CHECK(raw->size() <= in.size() * 3 / 4);
    std::string re;
    eio::base64_encode_to(re, *raw);
    auto const raw2 = eio::base64_decode(re);
    ROOMCAST_FUZZ_CHECK(raw2.has_value() && *raw2 == *raw);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    auto const in = roomcast::fuzz::as_text(data, size);
    text_frame(in);
    polling_payload(in);
    base64(in);
    auto const b = eio::decode_binary(in);
    ROOMCAST_FUZZ_CHECK(b.binary && b.data == in && b.type == eio::packet_type::message);
    return 0;
}
