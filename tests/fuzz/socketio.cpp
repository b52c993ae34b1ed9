// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
//
// Fuzz target: the Socket.IO v5 decoder and the binary attachment assembler
// (roomcast/protocol/socketio.hpp), driven as a connection drives them. The input is a
// sequence of WebSocket messages separated by NUL bytes (text frames hold no raw NUL: JSON
// cannot): the first is a text packet, each later one a binary frame, or a text frame when it
// starts with \x01. So attachment counts that lie (more or fewer frames than announced, text
// where an attachment was due) are part of what is fed.
//
// Every packet that comes out must obey what the decoder promises (payload shapes, limits,
// placeholders naming attachments that arrived) and encode to text that decodes to the same
// packet and encodes to the same text again.

#include "check.hpp"
#include "json_values.hpp"

#include <roomcast/protocol/socketio.hpp>

#include <boost/json/value.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sio = roomcast::protocol::socketio;

namespace {

// The server's defaults (roomcast::options::max_attachments is 10).
constexpr sio::decode_limits limits{};

/// The largest placeholder index in `v`, plus one; 0 without placeholders.
std::size_t placeholders_needed(boost::json::value const& v) {
    if (auto const i = sio::placeholder_index(v))
        return *i + 1;
    std::size_t n = 0;
    if (auto const* a = v.if_array()) {
        for (auto const& e : *a)
            n = std::max(n, placeholders_needed(e));
    } else if (auto const* o = v.if_object()) {
        for (auto const& kv : *o)
            n = std::max(n, placeholders_needed(kv.value()));
    }
    return n;
}

/// The placeholder indices in `v`, in order.
void placeholders(boost::json::value const& v, std::vector<std::size_t>& out) {
    if (auto const i = sio::placeholder_index(v)) {
        out.push_back(*i);
    } else if (auto const* a = v.if_array()) {
        for (auto const& e : *a)
            placeholders(e, out);
    } else if (auto const* o = v.if_object()) {
        for (auto const& kv : *o)
            placeholders(kv.value(), out);
    }
}

std::vector<std::size_t> placeholders(boost::json::value const& v) {
    std::vector<std::size_t> out;
    placeholders(v, out);
    return out;
}

/// Whether every object of `v` that says `"_placeholder": true` is a placeholder: the reference
/// parser reconstructs each such object from an attachment, or rejects the packet.
bool no_lookalikes(boost::json::value const& v) {
    if (auto const* a = v.if_array()) {
        for (auto const& e : *a)
            if (!no_lookalikes(e))
                return false;
    } else if (auto const* o = v.if_object()) {
        if (auto const* flag = o->if_contains("_placeholder");
            flag && flag->is_bool() && flag->get_bool())
            return sio::placeholder_index(v).has_value();
        for (auto const& kv : *o)
            if (!no_lookalikes(kv.value()))
                return false;
    }
    return true;
}

void check_shape(sio::packet const& p) {
    if (p.is_binary())
        ROOMCAST_FUZZ_CHECK(no_lookalikes(p.data));
    ROOMCAST_FUZZ_CHECK(!p.nsp.empty() && p.nsp.front() == '/');
    ROOMCAST_FUZZ_CHECK(p.nsp.size() <= limits.max_namespace);
    ROOMCAST_FUZZ_CHECK(!p.id || *p.id <= sio::max_ack_id);
    switch (p.type) {
    case sio::packet_type::connect:
        ROOMCAST_FUZZ_CHECK(p.data.is_null() || p.data.is_object());
        break;
    case sio::packet_type::disconnect:
        ROOMCAST_FUZZ_CHECK(p.data.is_null());
        break;
    case sio::packet_type::connect_error:
        ROOMCAST_FUZZ_CHECK(p.data.is_null() || p.data.is_string() || p.data.is_object());
        break;
    case sio::packet_type::event:
    case sio::packet_type::binary_event: {
        ROOMCAST_FUZZ_CHECK(p.data.is_array() && !p.data.get_array().empty());
        auto const& name = p.data.get_array().front();
        ROOMCAST_FUZZ_CHECK(name.is_string() || name.is_number());
        break;
    }
    case sio::packet_type::ack:
    case sio::packet_type::binary_ack:
        ROOMCAST_FUZZ_CHECK(p.data.is_array());
        break;
    }
}

/// `p`, decoded from `text_size` bytes, encodes to text that decodes to the same packet.
void check_round_trip(sio::packet const& p, std::size_t text_size) {
    auto const wire = sio::encode(p);
    // Re-encoding may respell JSON (1e20 is written as 21 digits, as JSON.stringify does), but
    // within a bound: nothing a client sends is amplified without limit on its way out.
    ROOMCAST_FUZZ_CHECK(wire.size() <= 6 * text_size + 32);
    auto const q = sio::decode(wire, limits);
    // A number past the doubles (1e400) reads as infinity and is written as null, as
    // JSON.parse and JSON.stringify do; the reference parser too rejects `2[null]` after
    // accepting `2[1e400]`. Such a packet need not decode again.
    if (!q && roomcast::fuzz::holds_non_finite(p.data))
        return;
    ROOMCAST_FUZZ_CHECK(q.has_value());
    ROOMCAST_FUZZ_CHECK(q->type == p.type && q->nsp == p.nsp && q->id == p.id);
    auto const announced = p.attachments.empty() ? p.attachment_count : p.attachments.size();
    ROOMCAST_FUZZ_CHECK(q->attachment_count == (p.is_binary() ? announced : 0));
    // Re-encoding makes no placeholder and loses none. (Only binary packets have any: in
    // others, the reference parser reads a placeholder's shape as a plain object.)
    if (p.is_binary())
        ROOMCAST_FUZZ_CHECK(placeholders(q->data) == placeholders(p.data));
    // Numbers may be respelled once (1.0 as 1, 1E2 as 100); after that the text is fixed.
    ROOMCAST_FUZZ_CHECK(sio::encode(*q) == wire);
}

/// A packet the assembler completed, or a plain one, decoded from `text_size` bytes of text.
void check_complete(sio::packet const& p, std::size_t text_size, std::size_t input_size) {
    check_shape(p);
    if (p.is_binary()) {
        ROOMCAST_FUZZ_CHECK(p.attachment_count >= 1 &&
                            p.attachment_count <= limits.max_attachments);
        ROOMCAST_FUZZ_CHECK(p.attachments.size() == p.attachment_count);
        // Every placeholder stands for an attachment that arrived.
        ROOMCAST_FUZZ_CHECK(placeholders_needed(p.data) <= p.attachments.size());
    } else {
        ROOMCAST_FUZZ_CHECK(p.attachment_count == 0 && p.attachments.empty());
    }
    std::size_t bytes = 0;
    for (auto const& a : p.attachments)
        bytes += a.size();
    ROOMCAST_FUZZ_CHECK(bytes <= input_size);
    check_round_trip(p, text_size);
}

/// A connection's decoding state: the assembler, and the text packet it holds.
struct connection {
    sio::binary_assembler assembler;
    std::size_t text_size = 0;
    std::string pending; // the waiting packet, encoded
    std::size_t input_size = 0;
};

/// What roomcast's client does with one WebSocket message (detail::client::on_message):
/// false once the connection would be closed for a parse error.
bool on_message(connection& c, std::string_view data, bool binary) {
    auto& assembler = c.assembler;
    if (binary) {
        auto const r = assembler.add(data);
        if (!r) {
            ROOMCAST_FUZZ_CHECK(r.error() == roomcast::protocol::error::unexpected_attachment);
            return false;
        }
        if (*r) {
            ROOMCAST_FUZZ_CHECK(!assembler.waiting());
            // The attachments are added; nothing else about the packet changes.
            ROOMCAST_FUZZ_CHECK(sio::encode(**r) == c.pending);
            check_complete(**r, c.text_size, c.input_size);
        }
        return true;
    }
    if (assembler.waiting())
        return false; // text while attachments were due
    auto p = sio::decode(data, limits);
    if (!p)
        return false;
    check_shape(*p);
    // Decoding alone holds no attachment, and a binary packet announces at least one.
    ROOMCAST_FUZZ_CHECK(p->attachments.empty());
    ROOMCAST_FUZZ_CHECK(p->is_binary() == (p->attachment_count > 0));
    if (p->is_binary())
        ROOMCAST_FUZZ_CHECK(placeholders_needed(p->data) <= p->attachment_count);
    check_round_trip(*p, data.size());
    c.text_size = data.size();
    if (p->is_binary()) {
        c.pending = sio::encode(*p);
        auto done = assembler.start(std::move(*p));
        ROOMCAST_FUZZ_CHECK(!done && assembler.waiting());
        return true;
    }
    check_complete(*p, c.text_size, c.input_size);
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    auto in = roomcast::fuzz::as_text(data, size);
    connection c;
    c.input_size = size;
    for (bool first = true;; first = false) {
        auto const nul = in.find('\0');
        auto msg = in.substr(0, nul);
        bool binary = !first;
        if (binary && !msg.empty() && msg.front() == '\x01') {
            binary = false;
            msg.remove_prefix(1);
        }
        if (!on_message(c, msg, binary))
            break;
        if (nul == std::string_view::npos)
            break;
        in.remove_prefix(nul + 1);
    }
    c.assembler.reset();
    ROOMCAST_FUZZ_CHECK(!c.assembler.waiting());
    return 0;
}
