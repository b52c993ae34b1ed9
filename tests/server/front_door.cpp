// The HTTP front door: requests off the Engine.IO path reach the host's handler, and the
// static file helper serves a folder and nothing outside it.
#include "catch.hpp"
#include "raw_client.hpp"
#include "test_server.hpp"

#include <roomcast/static_files.hpp>

#include <boost/beast/http/field.hpp>

#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace roomcast::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {
/// A scratch folder with a site in it, and a secret next to it.
struct site {
    fs::path base = fs::temp_directory_path() / ("roomcast-site-" + std::to_string(::getpid()));
    fs::path root = base / "public";

    site() {
        fs::remove_all(base);
        fs::create_directories(root / "js");
        write(root / "index.html", "<h1>hi</h1>");
        write(root / "js" / "app.js", "console.log(1)");
        write(root / "data.bin", std::string("\x00\x01", 2));
        write(base / "secret.txt", "secret");
        write(base / "lib.js", "library");
        fs::create_symlink(base / "secret.txt", root / "link.txt");
    }
    ~site() { fs::remove_all(base); }

    static void write(fs::path const& p, std::string const& text) { std::ofstream(p) << text; }
};
} // namespace

TEST_CASE("the host's handler answers requests off the Engine.IO path") {
    test_server srv({}, [](roomcast::server<>& io) {
        io.on_http([](roomcast::http_request const& req) {
            if (req.target() == "/boom")
                throw std::runtime_error("boom");
            roomcast::http_response res(boost::beast::http::status::ok, req.version());
            res.set(boost::beast::http::field::content_type, "text/plain");
            res.body() = "health ok " + std::string(req.target());
            return res;
        });
    });
    auto const r = http_get(srv.port(), "/health?x=1");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body == "health ok /health?x=1");
    CHECK(r->headers.at("content-type") == "text/plain");
    CHECK(http_get(srv.port(), "/boom")->status == 500);
    // The Engine.IO path is still Engine.IO's.
    CHECK(http_get(srv.port(), "/socket.io/?EIO=4&transport=carrier-pigeon")->status == 400);
    raw_client c;
    CHECK(!c.connect(srv.port()));

    // Keep-alive: two requests on one connection get two answers; `Connection: close` ends it.
    auto const both =
        http_raw(srv.port(), "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
                             "GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    CHECK(both.find("health ok /a") != std::string::npos);
    CHECK(both.find("health ok /b") != std::string::npos);
}

TEST_CASE("without a handler, requests off the Engine.IO path get 404") {
    test_server srv({}, [](roomcast::server<>&) {});
    CHECK(http_get(srv.port(), "/index.html")->status == 404);
}

TEST_CASE("static_files serves its folder with content types, and nothing outside") {
    site s;
    roomcast::static_files files(s.root);
    files.alias("/vendor/lib.js", s.base / "lib.js");
    test_server srv({}, [&](roomcast::server<>& io) { io.on_http(files); });

    auto const index = http_get(srv.port(), "/");
    REQUIRE(index);
    CHECK(index->status == 200);
    CHECK(index->body == "<h1>hi</h1>");
    CHECK(index->headers.at("content-type") == "text/html; charset=utf-8");
    auto const js = http_get(srv.port(), "/js/app.js?v=2");
    CHECK(js->body == "console.log(1)");
    CHECK(js->headers.at("content-type") == "text/javascript; charset=utf-8");
    CHECK(http_get(srv.port(), "/js/")->status == 404); // a folder without index.html
    CHECK(http_get(srv.port(), "/data.bin")->headers.at("content-type") ==
          "application/octet-stream");
    CHECK(http_get(srv.port(), "/data.bin")->body == std::string("\x00\x01", 2));
    CHECK(http_get(srv.port(), "/vendor/lib.js")->body == "library");
    CHECK(http_get(srv.port(), "/missing.html")->status == 404);

    // Ways out of the folder: none of them gives the secret.
    for (auto const* target :
         {"/../secret.txt", "/js/../../secret.txt", "/%2e%2e/secret.txt",
          "/js/%2E%2E/%2e%2e/secret.txt", "/..%2fsecret.txt", "/link.txt", "/%5c..%5csecret.txt"}) {
        INFO(target);
        auto const r = http_get(srv.port(), target);
        REQUIRE(r);
        CHECK(r->status >= 400);
        CHECK(r->body.find("secret") == std::string::npos);
    }
    auto const raw = http_raw(srv.port(), "GET ../secret.txt HTTP/1.1\r\nHost: x\r\n\r\n", 2s);
    CHECK(raw.find("secret") == std::string::npos);

    // HEAD has the GET's headers and no body; other methods are refused.
    auto const head = http_raw(srv.port(), "HEAD /js/app.js HTTP/1.1\r\nHost: x\r\n"
                                           "Connection: close\r\n\r\n");
    CHECK(head.find("Content-Length: 14") != std::string::npos);
    CHECK(head.find("console.log") == std::string::npos);
    auto const post = http_raw(srv.port(), "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                                           "Connection: close\r\n\r\n");
    CHECK(post.substr(0, 12) == "HTTP/1.1 405");
}

TEST_CASE("allow_request refuses a handshake with 403 before any session exists") {
    test_server srv({.transport = {.allow_request =
                                       [](roomcast::transport::request_info const& r) {
                                           return r.query_param("token") == "yes";
                                       }}},
                    [](roomcast::server<>&) {});
    auto const no = http_get(srv.port(), "/socket.io/?EIO=4&transport=websocket");
    REQUIRE(no);
    CHECK(no->status == 403);
    CHECK(no->body == R"({"code":4,"message":"Forbidden"})");
    raw_client refused, accepted;
    CHECK(refused.connect(srv.port()));
    REQUIRE(!accepted.connect(srv.port(), "/socket.io/?EIO=4&transport=websocket&token=yes"));
    CHECK(accepted.read().value_or("").substr(0, 1) == "0");
}
