// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_TLS_HPP
#define ROOMCAST_TLS_HPP

// TLS for a server's port (https:// long-polling and wss://), with OpenSSL: link
// roomcast::tls. Not included by <roomcast/roomcast.hpp>, so that programs without TLS need
// no OpenSSL.
//
//     roomcast::server<> io({.port = 8443,
//                            .transport = {.tls = roomcast::tls("cert.pem", "key.pem")}});
//
// A program built with BOOST_ASIO_SEPARATE_COMPILATION compiles
// <boost/asio/ssl/impl/src.hpp> once, as it does <boost/asio/impl/src.hpp>.

#include <roomcast/transport/tls_layer.hpp>

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/system/system_error.hpp>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace roomcast {

namespace detail {

/// One server connection's TLS with OpenSSL. The SSL object reads and writes through a BIO of
/// roomcast's own that sees only the bytes of the call under way: what the caller read, and a
/// string the caller writes afterwards. So the connection holds no buffer of its own between
/// calls (with SSL_MODE_RELEASE_BUFFERS, OpenSSL holds none either while idle), and nothing
/// ever waits inside OpenSSL.
class openssl_layer final : public transport::tls_layer {
public:
    /// A layer for a connection accepted with `ctx`, or null if OpenSSL cannot make one.
    static std::unique_ptr<openssl_layer> make(SSL_CTX* ctx) {
        std::unique_ptr<openssl_layer> layer(new openssl_layer);
        layer->ssl_ = SSL_new(ctx);
        BIO* bio = layer->ssl_ && method() ? BIO_new(method()) : nullptr;
        if (!bio) {
            ERR_clear_error();
            return nullptr;
        }
        BIO_set_data(bio, layer.get());
        BIO_set_init(bio, 1);
        SSL_set_bio(layer->ssl_, bio, bio); // one reference, owned by the SSL object
        SSL_set_accept_state(layer->ssl_);
        return layer;
    }

    ~openssl_layer() override { SSL_free(ssl_); }

    status receive(std::span<char const> wire, std::span<char> scratch, sink to,
                   std::string& reply) override {
        call c(*this, wire, reply);
        while (!SSL_is_init_finished(ssl_)) {
            auto const left = in_.size();
            int const r = SSL_do_handshake(ssl_);
            if (r == 1)
                break;
            if (SSL_get_error(ssl_, r) != SSL_ERROR_WANT_READ)
                return status::failed;
            if (in_.empty())
                return status::ok; // the rest of the handshake comes with later bytes
            if (in_.size() == left)
                return status::failed; // OpenSSL took nothing: never loop
        }
        std::size_t have = 0;
        for (;;) {
            if (have == scratch.size()) {
                if (!to(scratch.first(have)))
                    return status::ok;
                have = 0;
            }
            std::size_t n = 0;
            auto const left = in_.size();
            int const r = SSL_read_ex(ssl_, scratch.data() + have, scratch.size() - have, &n);
            if (r == 1) {
                have += n;
                continue;
            }
            int const e = SSL_get_error(ssl_, r);
            bool const taken_all = in_.empty();
            if (e == SSL_ERROR_WANT_READ && !taken_all && in_.size() != left)
                continue; // a record that was not application data (a ticket, a key update)
            if (have != 0 && !to(scratch.first(have)))
                return status::ok;
            if (e == SSL_ERROR_WANT_READ && taken_all)
                return status::ok; // every byte of `wire` is taken
            return e == SSL_ERROR_ZERO_RETURN ? status::closed : status::failed;
        }
    }

    bool established() const noexcept override { return SSL_is_init_finished(ssl_) == 1; }

    bool send(std::string_view plain, std::string& wire) override {
        call c(*this, {}, wire);
        while (!plain.empty()) {
            std::size_t n = 0;
            if (SSL_write_ex(ssl_, plain.data(), plain.size(), &n) != 1)
                return false;
            plain.remove_prefix(n);
        }
        return true;
    }

    void close(std::string& wire) override {
        call c(*this, {}, wire);
        if (SSL_is_init_finished(ssl_))
            SSL_shutdown(ssl_);
    }

private:
    openssl_layer() = default;

    /// The bytes one call may read and the string it writes to. Calls nest: a `send` from
    /// the sink of a `receive` writes to its own string, and the `receive` then goes on with
    /// the rest of its bytes. OpenSSL's error queue is the thread's, so it is left empty for
    /// the next connection.
    struct call {
        call(openssl_layer& l, std::span<char const> in, std::string& out)
            : l_(l)
            , in_(l.in_)
            , out_(l.out_) {
            ERR_clear_error();
            l_.in_ = in;
            l_.out_ = &out;
        }
        ~call() {
            l_.in_ = in_;
            l_.out_ = out_;
            ERR_clear_error();
        }
        call(call const&) = delete;
        call& operator=(call const&) = delete;

        openssl_layer& l_;
        std::span<char const> in_;
        std::string* out_;
    };

    static BIO_METHOD const* method() {
        static BIO_METHOD* const m = [] {
            auto* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "roomcast");
            if (m) {
                BIO_meth_set_write(m, &bio_write);
                BIO_meth_set_read(m, &bio_read);
                BIO_meth_set_ctrl(m, &bio_ctrl);
            }
            return m;
        }();
        return m;
    }

    static int bio_write(BIO* b, char const* data, int n) {
        BIO_clear_retry_flags(b);
        auto* l = static_cast<openssl_layer*>(BIO_get_data(b));
        if (!l->out_)
            return -1; // outside a call: nothing may be lost silently
        l->out_->append(data, static_cast<std::size_t>(n));
        return n;
    }

    static int bio_read(BIO* b, char* data, int n) {
        BIO_clear_retry_flags(b);
        auto* l = static_cast<openssl_layer*>(BIO_get_data(b));
        if (l->in_.empty()) {
            BIO_set_retry_read(b); // more comes with the next call
            return -1;
        }
        auto const k = std::min(l->in_.size(), static_cast<std::size_t>(n));
        std::memcpy(data, l->in_.data(), k);
        l->in_ = l->in_.subspan(k);
        return static_cast<int>(k);
    }

    static long bio_ctrl(BIO*, int cmd, long, void*) { return cmd == BIO_CTRL_FLUSH ? 1 : 0; }

    SSL* ssl_ = nullptr;
    std::span<char const> in_;
    std::string* out_ = nullptr;
};

class openssl_factory final : public transport::tls_factory {
public:
    explicit openssl_factory(boost::asio::ssl::context ctx)
        : ctx_(std::move(ctx)) {
        // Idle connections give their record buffers back; a record that is not application
        // data does not end a read early; a client cannot make the server renegotiate (CPU).
        SSL_CTX_set_mode(ctx_.native_handle(), SSL_MODE_RELEASE_BUFFERS | SSL_MODE_AUTO_RETRY);
        SSL_CTX_set_options(ctx_.native_handle(), SSL_OP_NO_RENEGOTIATION);
    }

    std::unique_ptr<transport::tls_layer> make_layer() const override {
        return openssl_layer::make(ctx_.native_handle());
    }

private:
    mutable boost::asio::ssl::context ctx_;
};

} // namespace detail

/// TLS for `transport::options::tls`, from an Asio context set up by the caller (its
/// certificate chain, key, protocol versions, ciphers, client certificates...). The context
/// is shared by every shard: set it up completely before the server is made.
inline std::shared_ptr<transport::tls_factory const> tls(boost::asio::ssl::context ctx) {
    return std::make_shared<detail::openssl_factory>(std::move(ctx));
}

/// TLS 1.2 and 1.3 with a certificate chain (PEM, the server's certificate first) and its
/// private key (PEM). Throws boost::system::system_error when a file cannot be read or the
/// key does not belong to the certificate.
inline std::shared_ptr<transport::tls_factory const> tls(std::string const& certificate_chain_file,
                                                         std::string const& private_key_file) {
    namespace ssl = boost::asio::ssl;
    ssl::context ctx(ssl::context::tls_server);
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                    ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                    ssl::context::single_dh_use);
    ctx.use_certificate_chain_file(certificate_chain_file);
    ctx.use_private_key_file(private_key_file, ssl::context::pem);
    if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
        ERR_clear_error();
        throw boost::system::system_error(boost::asio::error::invalid_argument,
                                          "roomcast::tls: the private key does not match the "
                                          "certificate");
    }
    return tls(std::move(ctx));
}

} // namespace roomcast

#endif
