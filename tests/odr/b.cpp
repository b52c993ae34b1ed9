#include <roomcast/roomcast.hpp>

int from_b() {
    return roomcast::protocol::serialize(boost::json::value(42)) == "42" ? 42 : 0;
}
