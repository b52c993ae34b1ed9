// Two translation units include everything; linking them proves every non-template function
// in the headers is inline (no ODR break).
#include <roomcast/roomcast.hpp>
#include <roomcast/tls.hpp>

int from_b();

int main() {
    roomcast::conversion_error e;
    std::string s;
    bool const ok = roomcast::from_json(nullptr, s, e);
    return (!ok && from_b() == 42) ? 0 : 1;
}
