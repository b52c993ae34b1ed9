// One port serves the page, a health check and the socket.
#include <roomcast/roomcast.hpp>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>

void serve_site(roomcast::server<>& io) {
    roomcast::static_files site("public"); // GET / is public/index.html
    site.alias("/socket.io.min.js", "node_modules/socket.io-client/dist/socket.io.min.js");

    // Requests off the Engine.IO path come here, on a shard's thread: do not block.
    io.on_http([site](roomcast::http_request const& req) {
        namespace http = boost::beast::http;
        if (req.target() == "/healthz") {
            roomcast::http_response res(http::status::ok, req.version());
            res.set(http::field::content_type, "text/plain");
            res.body() = "ok";
            res.prepare_payload();
            return res;
        }
        return site(req);
    });
}
