// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_CONVERT_HPP
#define ROOMCAST_CONVERT_HPP

// Conversion between client JSON and C++ payload types.
//
// Inbound (`from_json`) is roomcast's own, because client input needs rules Boost 1.81's
// Describe conversion does not have: unknown keys are ignored, a missing `std::optional` member
// is empty, and a wrong type is an error naming the field. Outbound (`to_json`) is
// `boost::json::value_from`, except that an empty `std::optional` member of a described struct
// is left out, as JSON.stringify leaves out `undefined`.

#include <roomcast/protocol/socketio.hpp>

#include <boost/describe/class.hpp>
#include <boost/describe/members.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_from.hpp>
#include <boost/mp11/algorithm.hpp>

#include <cmath>
#include <concepts>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace roomcast {

namespace detail {
template<class T>
struct is_optional : std::false_type {};
template<class T>
struct is_optional<std::optional<T>> : std::true_type {};

template<class T>
struct is_vector : std::false_type {};
template<class T, class A>
struct is_vector<std::vector<T, A>> : std::true_type {};

template<class T>
struct is_string_map : std::false_type {};
template<class V, class C, class A>
struct is_string_map<std::map<std::string, V, C, A>> : std::true_type {};
template<class V, class H, class E, class A>
struct is_string_map<std::unordered_map<std::string, V, H, E, A>> : std::true_type {};

template<class T>
inline constexpr bool is_described_struct =
    boost::describe::has_describe_members<T>::value&& std::is_class_v<T> && !std::is_union_v<T>;

inline char const* kind_name(boost::json::value const& v) noexcept {
    switch (v.kind()) {
    case boost::json::kind::null:
        return "null";
    case boost::json::kind::bool_:
        return "boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_:
        return "number";
    case boost::json::kind::string:
        return "string";
    case boost::json::kind::array:
        return "array";
    case boost::json::kind::object:
        return "object";
    }
    return "value";
}
} // namespace detail

template<class T>
boost::json::value to_json(T const& x);

/// Bytes that travel as a Socket.IO binary attachment: a Buffer, ArrayBuffer or Blob on the
/// JavaScript side, `bytes` in Python. As a handler parameter it receives an attachment the
/// client sent; passed to `emit`, it is sent as one (the packet becomes a BINARY_EVENT).
/// Attachments may sit anywhere in the arguments: in structs, vectors, optionals.
struct binary {
    std::vector<std::uint8_t> bytes;

    binary() = default;
    explicit binary(std::vector<std::uint8_t> b)
        : bytes(std::move(b)) {}
    explicit binary(std::string_view s)
        : bytes(s.begin(), s.end()) {}

    std::size_t size() const noexcept { return bytes.size(); }
    std::uint8_t const* data() const noexcept { return bytes.data(); }
    std::string_view view() const noexcept {
        return {reinterpret_cast<char const*>(bytes.data()), bytes.size()};
    }
    friend bool operator==(binary const&, binary const&) = default;
};

struct conversion_error;

/// An event's or an acknowledgement's arguments as the client sent them: the JSON values (a
/// `boost::json::array`), in which each binary attachment is a placeholder
/// `{"_placeholder":true,"num":i}`, and the attachments' bytes. As the last parameter of a
/// handler it receives all the remaining arguments; passed to `emit` or an ack, it sends the
/// same values and bytes again, so it forwards or echoes a packet exactly. It is what
/// `emit_with_ack` completes with.
struct arguments : boost::json::array {
    using boost::json::array::array;
    arguments() = default;
    explicit arguments(boost::json::array values, std::vector<std::string> files = {})
        : boost::json::array(std::move(values))
        , attachments(std::move(files)) {}

    std::vector<std::string> attachments;

    /// Converts argument `i` as a handler parameter of type `T` would be (binary placeholders
    /// resolved); false, with `err` set, if it does not convert.
    template<class T>
    bool get(std::size_t i, T& out, conversion_error& err) const;
};

namespace detail {
/// Collects the attachments of the packet being built on this thread (set by emit while it
/// converts arguments; conversion is synchronous, so a thread-local is exact).
inline std::vector<std::string>*& attachment_sink() noexcept {
    thread_local std::vector<std::string>* sink = nullptr;
    return sink;
}

/// Installs a sink for the duration of one packet's conversion.
class collect_attachments {
public:
    collect_attachments() noexcept
        : previous_(attachment_sink()) {
        attachment_sink() = &out_;
    }
    ~collect_attachments() { attachment_sink() = previous_; }
    collect_attachments(collect_attachments const&) = delete;
    collect_attachments& operator=(collect_attachments const&) = delete;
    std::vector<std::string>& attachments() noexcept { return out_; }

private:
    std::vector<std::string>* previous_;
    std::vector<std::string> out_;
};

/// An event's or an ack's arguments, converted, with the binary attachments they hold.
struct payload {
    boost::json::array args;
    std::vector<std::string> attachments;
};

/// Adds `n` to the index of every placeholder in `v`.
inline void shift_placeholders(boost::json::value& v, std::size_t n) {
    if (auto const i = protocol::socketio::placeholder_index(v)) {
        v = protocol::socketio::make_placeholder(*i + n);
    } else if (auto* a = v.if_array()) {
        for (auto& e : *a)
            shift_placeholders(e, n);
    } else if (auto* o = v.if_object()) {
        for (auto& e : *o)
            shift_placeholders(e.value(), n);
    }
}

/// Boost.JSON's own types, which go into a packet as they are.
template<class T>
inline constexpr bool is_json_type =
    std::is_same_v<T, boost::json::value> || std::is_same_v<T, boost::json::object> ||
    std::is_same_v<T, boost::json::array> || std::is_same_v<T, boost::json::string>;

/// Adds one argument to a packet's: an `arguments` adds each of its values, and its
/// attachments after those collected so far. JSON given as an rvalue is moved in.
template<class A>
void append_argument(boost::json::array& args, A&& a) {
    using T = std::remove_cvref_t<A>;
    if constexpr (std::is_same_v<T, arguments>) {
        auto* sink = attachment_sink();
        auto const offset = sink->size();
        for (auto const& v : a) {
            args.push_back(v);
            if (offset)
                shift_placeholders(args.back(), offset);
        }
        sink->insert(sink->end(), a.attachments.begin(), a.attachments.end());
    } else if constexpr (is_json_type<T> && !std::is_lvalue_reference_v<A>) {
        args.emplace_back(std::move(a));
    } else {
        args.push_back(to_json(a));
    }
}

/// Throws `std::invalid_argument` for the event names Socket.IO clients keep for their own
/// events (`connect`, `disconnect`...): the server would make the client run its own handlers
/// with made-up arguments. Node's server throws the same way.
inline void check_event_name(std::string_view event) {
    if (protocol::socketio::detail::is_reserved_event(event))
        throw std::invalid_argument("roomcast: \"" + std::string(event) +
                                    "\" is a reserved event name");
}

/// Converts `a...` (after `event`, when there is one) for one packet.
template<class... A>
payload make_payload(std::optional<std::string_view> event, A&&... a) {
    if (event)
        check_event_name(*event);
    collect_attachments collect;
    payload p;
    p.args.reserve(sizeof...(A) + 1);
    if (event)
        p.args.emplace_back(*event);
    (append_argument(p.args, std::forward<A>(a)), ...);
    p.attachments = std::move(collect.attachments());
    return p;
}

/// An event with one argument that is JSON already (a braced list given to emit): it holds
/// no binary, so there is nothing to collect.
inline payload event_payload(std::string_view event, boost::json::value arg) {
    check_event_name(event);
    payload p;
    p.args.reserve(2);
    p.args.emplace_back(event);
    p.args.push_back(std::move(arg));
    return p;
}

inline boost::json::value attach(binary const& b) {
    auto* sink = attachment_sink();
    if (!sink) // converted outside an emit: there is nowhere to attach the bytes
        throw std::logic_error("roomcast::binary converts to JSON only inside emit");
    sink->emplace_back(b.view());
    return protocol::socketio::make_placeholder(sink->size() - 1);
}
} // namespace detail

/// Where and why a payload did not convert. `path` names the field as JavaScript would
/// (`.roomName`, `[2].id`); empty for the argument itself.
struct conversion_error {
    std::string path;
    std::string expected;
    std::string got; ///< JSON type found, or "nothing" for a missing value

    /// e.g. `field .roomName: expected string, got number`
    std::string message() const {
        std::string m = path.empty() ? std::string("value") : "field " + path;
        m += ": expected " + expected + ", got " + got;
        return m;
    }
};

namespace detail {
template<class T>
struct type_name_of {
    static std::string get() {
        if constexpr (std::is_same_v<T, bool>)
            return "boolean";
        else if constexpr (std::is_integral_v<T>)
            return "integer";
        else if constexpr (std::is_floating_point_v<T>)
            return "number";
        else if constexpr (std::is_convertible_v<std::string, T>)
            return "string";
        else if constexpr (is_vector<T>::value)
            return "array";
        else
            return "object";
    }
};

/// What a conversion carries down the tree: where it is, what went wrong, and the binary
/// attachments that placeholders stand for.
struct convert_context {
    std::string path;
    conversion_error err;
    std::span<std::string const> attachments;
};

template<class T>
bool convert_into(boost::json::value const* v, T& out, convert_context& cx);

inline bool fail(conversion_error& err, std::string const& path, std::string expected,
                 boost::json::value const* v) {
    err.path = path;
    err.expected = std::move(expected);
    err.got = v ? kind_name(*v) : "nothing";
    return false;
}

template<class T>
bool convert_integer(boost::json::value const& v, T& out) {
    using lim = std::numeric_limits<T>;
    if (v.is_int64()) {
        auto const x = v.get_int64();
        if constexpr (std::is_signed_v<T>) {
            if (x < static_cast<std::int64_t>(lim::min()) ||
                x > static_cast<std::int64_t>(lim::max()))
                return false;
        } else {
            if (x < 0 || static_cast<std::uint64_t>(x) > static_cast<std::uint64_t>(lim::max()))
                return false;
        }
        out = static_cast<T>(x);
        return true;
    }
    if (v.is_uint64()) {
        auto const x = v.get_uint64();
        if (x > static_cast<std::uint64_t>(lim::max()))
            return false;
        out = static_cast<T>(x);
        return true;
    }
    if (v.is_double()) {
        // JavaScript has only doubles: 3.0 is an integer, 3.5 is not.
        auto const x = v.get_double();
        if (!std::isfinite(x) || std::trunc(x) != x || x < static_cast<double>(lim::min()) ||
            x >= std::ldexp(1.0, lim::digits))
            return false;
        out = static_cast<T>(x);
        return true;
    }
    return false;
}

template<class T>
bool convert_into(boost::json::value const* v, T& out, convert_context& cx) {
    auto& path = cx.path;
    auto& err = cx.err;
    if constexpr (is_optional<T>::value) {
        if (!v || v->is_null()) {
            out.reset();
            return true;
        }
        typename T::value_type inner{};
        if (!convert_into(v, inner, cx))
            return false;
        out = std::move(inner);
        return true;
    } else if constexpr (std::is_same_v<T, boost::json::value>) {
        if (!v)
            return fail(err, path, "a value", v);
        out = *v;
        return true;
    } else if constexpr (std::is_same_v<T, binary>) {
        // A binary attachment arrives as {"_placeholder":true,"num":i} (Socket.IO v5 §binary).
        auto const idx = v ? protocol::socketio::placeholder_index(*v) : std::nullopt;
        if (!idx || *idx >= cx.attachments.size())
            return fail(err, path, "binary", v);
        auto const& bytes = cx.attachments[*idx];
        out.bytes.assign(bytes.begin(), bytes.end());
        return true;
    } else if constexpr (std::is_same_v<T, boost::json::object>) {
        if (!v || !v->is_object())
            return fail(err, path, "object", v);
        out = v->get_object();
        return true;
    } else if constexpr (std::is_same_v<T, boost::json::array>) {
        if (!v || !v->is_array())
            return fail(err, path, "array", v);
        out = v->get_array();
        return true;
    } else if constexpr (std::is_same_v<T, bool>) {
        if (!v || !v->is_bool())
            return fail(err, path, "boolean", v);
        out = v->get_bool();
        return true;
    } else if constexpr (std::is_integral_v<T>) {
        if (!v || !v->is_number())
            return fail(err, path, "integer", v);
        if (!convert_integer(*v, out))
            return fail(err, path, "integer in range", v);
        return true;
    } else if constexpr (std::is_floating_point_v<T>) {
        if (!v || !v->is_number())
            return fail(err, path, "number", v);
        out = static_cast<T>(v->to_number<double>());
        return true;
    } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, boost::json::string>) {
        if (!v || !v->is_string())
            return fail(err, path, "string", v);
        out = T(v->get_string().data(), v->get_string().size());
        return true;
    } else if constexpr (is_vector<T>::value) {
        if (!v || !v->is_array())
            return fail(err, path, "array", v);
        auto const& a = v->get_array();
        out.clear();
        out.reserve(a.size());
        auto const len = path.size();
        for (std::size_t i = 0; i < a.size(); ++i) {
            path += '[' + std::to_string(i) + ']';
            typename T::value_type e{};
            if (!convert_into(&a[i], e, cx))
                return false;
            out.push_back(std::move(e));
            path.resize(len);
        }
        return true;
    } else if constexpr (is_string_map<T>::value) {
        if (!v || !v->is_object())
            return fail(err, path, "object", v);
        out.clear();
        auto const len = path.size();
        for (auto const& kv : v->get_object()) {
            path += '.';
            path += kv.key();
            typename T::mapped_type e{};
            if (!convert_into(&kv.value(), e, cx))
                return false;
            out.emplace(std::string(kv.key()), std::move(e));
            path.resize(len);
        }
        return true;
    } else if constexpr (is_described_struct<T>) {
        if (!v || !v->is_object())
            return fail(err, path, "object", v);
        auto const& o = v->get_object();
        bool ok = true;
        auto const len = path.size();
        using members = boost::describe::describe_members<T, boost::describe::mod_public |
                                                                 boost::describe::mod_inherited>;
        boost::mp11::mp_for_each<members>([&](auto d) {
            if (!ok)
                return;
            path += '.';
            path += d.name;
            ok = convert_into(o.if_contains(d.name), out.*d.pointer, cx);
            if (ok)
                path.resize(len);
        });
        return ok;
    } else {
        static_assert(sizeof(T) == 0,
                      "roomcast cannot decode this parameter type: use a BOOST_DESCRIBE_STRUCT, "
                      "std::string, a number, bool, std::vector, std::map<std::string, T>, "
                      "std::optional or boost::json::value");
        return false;
    }
}
} // namespace detail

/// Converts client JSON to `T`. `v` null means the value is absent (an argument the client
/// did not send, or a missing field): only a `std::optional` accepts that. `attachments` are
/// the packet's binary attachments, which `roomcast::binary` values refer to.
/// Never throws for bad input; the error names the failing field.
template<class T>
bool from_json(boost::json::value const* v, T& out, conversion_error& err,
               std::span<std::string const> attachments = {}) {
    detail::convert_context cx{{}, {}, attachments};
    bool const ok = detail::convert_into(v, out, cx);
    if (!ok)
        err = std::move(cx.err);
    return ok;
}

template<class T>
bool arguments::get(std::size_t i, T& out, conversion_error& err) const {
    return from_json(i < size() ? &(*this)[i] : nullptr, out, err, attachments);
}

/// Converts `x` to JSON for the wire (see the header comment for the one difference from
/// boost::json::value_from). A `roomcast::binary` becomes a placeholder for an attachment of
/// the packet being emitted; converting one outside an emit throws std::logic_error.
template<class T>
boost::json::value to_json(T const& x) {
    if constexpr (std::is_same_v<T, binary>) {
        return detail::attach(x); // a placeholder; the bytes go with the packet
    } else if constexpr (detail::is_optional<T>::value) {
        return x ? to_json(*x) : boost::json::value(nullptr);
    } else if constexpr (detail::is_vector<T>::value) {
        boost::json::array a;
        a.reserve(x.size());
        for (auto const& e : x)
            a.push_back(to_json(e));
        return a;
    } else if constexpr (detail::is_string_map<T>::value) {
        boost::json::object o;
        o.reserve(x.size());
        for (auto const& [k, e] : x)
            o.emplace(k, to_json(e));
        return o;
    } else if constexpr (detail::is_described_struct<T>) {
        boost::json::object o;
        using members = boost::describe::describe_members<T, boost::describe::mod_public |
                                                                 boost::describe::mod_inherited>;
        boost::mp11::mp_for_each<members>([&](auto d) {
            using M = std::remove_cvref_t<decltype(x.*d.pointer)>;
            if constexpr (detail::is_optional<M>::value) {
                if (!(x.*d.pointer))
                    return;
            }
            o.emplace(d.name, to_json(x.*d.pointer));
        });
        return o;
    } else {
        return boost::json::value_from(x);
    }
}

} // namespace roomcast

#endif
