// Asio, Beast and roomcast's transport compiled once for the test binaries that link
// roomcast_test_support.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
#include <roomcast/src.hpp>
