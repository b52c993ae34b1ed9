// A server that serves https:// and wss:// itself; the program links roomcast::tls.
#include <roomcast/roomcast.hpp>
#include <roomcast/tls.hpp>

#include <string>

roomcast::options tls_server_options(std::string const& certificate_chain_file,
                                     std::string const& private_key_file) {
    // Throws boost::system::system_error when a file cannot be read, or when the key is not
    // the certificate's.
    return {
        .port = 8443,
        .transport = {.tls = roomcast::tls(certificate_chain_file, private_key_file)},
    };
}
