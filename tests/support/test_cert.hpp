// A self-signed certificate for localhost and 127.0.0.1, made by the test run (OpenSSL 3).
#ifndef ROOMCAST_TESTS_TEST_CERT_HPP
#define ROOMCAST_TESTS_TEST_CERT_HPP

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace roomcast::test {

struct test_certificate {
    std::string certificate_pem;
    std::string key_pem;
};

/// A P-256 key and a certificate for it, valid for a day, for DNS:localhost and
/// IP:127.0.0.1: a client that trusts this certificate verifies the server by either name.
inline test_certificate make_test_certificate() {
    auto const check = [](bool ok, char const* what) {
        if (!ok)
            throw std::runtime_error(std::string("test certificate: ") + what);
    };
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
    check(key != nullptr, "key");
    std::unique_ptr<X509, decltype(&X509_free)> x(X509_new(), &X509_free);
    check(x != nullptr, "certificate");
    X509_set_version(x.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(x.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x.get()), 86400);
    X509_set_pubkey(x.get(), key.get());
    auto* name = X509_get_subject_name(x.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<unsigned char const*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(x.get(), name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x.get(), x.get(), nullptr, nullptr, 0);
    auto* san =
        X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
    check(san != nullptr, "subjectAltName");
    X509_add_ext(x.get(), san, -1);
    X509_EXTENSION_free(san);
    check(X509_sign(x.get(), key.get(), EVP_sha256()) != 0, "signature");

    auto const pem = [&](auto write) {
        std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
        check(bio && write(bio.get()), "PEM");
        char* data = nullptr;
        auto const n = BIO_get_mem_data(bio.get(), &data);
        return std::string(data, static_cast<std::size_t>(n));
    };
    test_certificate c;
    c.certificate_pem = pem([&](BIO* b) { return PEM_write_bio_X509(b, x.get()) == 1; });
    c.key_pem = pem([&](BIO* b) {
        return PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1;
    });
    return c;
}

} // namespace roomcast::test

#endif
