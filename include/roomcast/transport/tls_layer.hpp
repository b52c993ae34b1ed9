// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_TRANSPORT_TLS_LAYER_HPP
#define ROOMCAST_TRANSPORT_TLS_LAYER_HPP

// TLS as the transport sees it: records over bytes the transport reads and writes itself.
// The transport keeps its own socket I/O (the write batching, the readiness-driven reads, a
// WebSocket moved between shards as a descriptor) and hands the bytes through a tls_layer.
// <roomcast/tls.hpp> implements these with OpenSSL; nothing here needs OpenSSL's headers.

#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace roomcast::transport {

/// The TLS state of one server connection (RFC 8446): the handshake, then records both
/// ways. Used from one thread at a time (the connection's). It never touches a socket: what
/// it must send is appended to a string the caller writes, in order.
class tls_layer {
public:
    enum class status {
        ok,     ///< everything taken; the handshake may need more bytes yet
        closed, ///< the peer sent close_notify: nothing more comes
        failed, ///< a broken handshake or record; the connection must end
    };

    /// Takes the decrypted bytes: returns false to stop decrypting (the connection ended).
    struct sink {
        void* context;
        bool (*take)(void* context, std::span<char> plain);
        bool operator()(std::span<char> plain) const { return take(context, plain); }
    };

    virtual ~tls_layer() = default;

    /// Takes every byte of `wire` (read from the peer): the handshake runs until it is done,
    /// then records are decrypted into `scratch` and handed to `to` whenever it is full and at
    /// the end. Bytes owed to the peer (handshake flights, alerts) are appended to `reply`.
    virtual status receive(std::span<char const> wire, std::span<char> scratch, sink to,
                           std::string& reply) = 0;
    /// Whether the handshake is done (application data may flow).
    virtual bool established() const noexcept = 0;
    /// Appends `plain` as records to `wire`; false if the connection is broken (a fatal
    /// alert was sent or received).
    virtual bool send(std::string_view plain, std::string& wire) = 0;
    /// Appends close_notify to `wire`.
    virtual void close(std::string& wire) = 0;
};

/// Makes the tls_layer of each accepted connection: the certificate, key and settings of a
/// server. Shared by every shard, so it must be set up before the server is made and not
/// changed afterwards.
class tls_factory {
public:
    virtual ~tls_factory() = default;
    virtual std::unique_ptr<tls_layer> make_layer() const = 0;
};

/// `f` as a tls_layer::sink; `f` must outlive the call it is given to.
template<class F>
tls_layer::sink make_sink(F& f) {
    return {&f, [](void* c, std::span<char> plain) { return (*static_cast<F*>(c))(plain); }};
}

} // namespace roomcast::transport

#endif
