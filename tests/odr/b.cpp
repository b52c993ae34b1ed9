#include <roomcast/roomcast.hpp>
#include <roomcast/tls.hpp>

int from_b() {
    return roomcast::protocol::serialize(boost::json::value(42)) == "42" ? 42 : 0;
}
