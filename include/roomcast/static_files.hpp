// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_STATIC_FILES_HPP
#define ROOMCAST_STATIC_FILES_HPP

#include <roomcast/transport/detail/url.hpp>
#include <roomcast/transport/http.hpp>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace roomcast {

using transport::http_request;
using transport::http_response;

/// Serves the files under one folder, for the pages in front of a Socket.IO server (see
/// `server::on_http`): `GET /` is `index.html`, `GET /app.js` is `<root>/app.js`. Nothing
/// outside the folder is reachable: `..` segments are refused and symbolic links that lead
/// outside are not followed. Content types by extension. Files are read on each request, so
/// this is for small sites and examples, not a CDN.
class static_files {
public:
    explicit static_files(std::filesystem::path root) {
        std::error_code ec;
        root_ = std::filesystem::weakly_canonical(root, ec);
        if (ec)
            root_ = std::move(root);
    }

    /// Serves `file` (anywhere) at `url_path` as well, e.g. a client library from
    /// node_modules: `.alias("/socket.io.min.js", "node_modules/.../socket.io.min.js")`.
    static_files& alias(std::string url_path, std::filesystem::path file) {
        aliases_.insert_or_assign(std::move(url_path), std::move(file));
        return *this;
    }

    /// The answer to `req`: the file, 404 if there is none, 400 for a path that leaves the
    /// folder, 405 for methods other than GET and HEAD.
    http_response operator()(http_request const& req) const {
        namespace http = boost::beast::http;
        if (req.method() != http::verb::get && req.method() != http::verb::head)
            return answer(req, http::status::method_not_allowed, "text/plain",
                          "Method Not Allowed");
        auto target = std::string_view(req.target().data(), req.target().size());
        target = target.substr(0, target.find_first_of("?#"));
        auto const path = transport::detail::percent_decode(target, false);
        if (auto it = aliases_.find(path); it != aliases_.end())
            return serve(req, it->second);
        if (path.empty() || path.front() != '/' || !safe(path))
            return answer(req, http::status::bad_request, "text/plain", "Bad Request");
        auto file = root_ / std::filesystem::path(path.substr(1));
        std::error_code ec;
        if (std::filesystem::is_directory(file, ec))
            file /= "index.html";
        // Symbolic links may point anywhere: what they resolve to must still be inside.
        auto const real = std::filesystem::weakly_canonical(file, ec);
        auto const [r, _] = std::mismatch(root_.begin(), root_.end(), real.begin(), real.end());
        if (ec || r != root_.end())
            return answer(req, http::status::not_found, "text/plain", "Not Found");
        return serve(req, real);
    }

    /// The content type of a file name, by extension.
    static std::string_view content_type(std::filesystem::path const& file) {
        static std::map<std::string, std::string_view, std::less<>> const types = {
            {".html", "text/html; charset=utf-8"},
            {".htm", "text/html; charset=utf-8"},
            {".js", "text/javascript; charset=utf-8"},
            {".mjs", "text/javascript; charset=utf-8"},
            {".css", "text/css; charset=utf-8"},
            {".json", "application/json"},
            {".map", "application/json"},
            {".txt", "text/plain; charset=utf-8"},
            {".svg", "image/svg+xml"},
            {".png", "image/png"},
            {".jpg", "image/jpeg"},
            {".jpeg", "image/jpeg"},
            {".gif", "image/gif"},
            {".ico", "image/x-icon"},
            {".webp", "image/webp"},
            {".wasm", "application/wasm"},
            {".woff2", "font/woff2"},
        };
        auto const it = types.find(file.extension().string());
        return it == types.end() ? std::string_view("application/octet-stream") : it->second;
    }

private:
    /// No segment may climb out, and no byte may play tricks with the file system.
    static bool safe(std::string_view path) {
        if (path.find('\0') != std::string_view::npos || path.find('\\') != std::string_view::npos)
            return false;
        while (!path.empty()) {
            path.remove_prefix(1); // the '/'
            auto const seg = path.substr(0, path.find('/'));
            if (seg == "..")
                return false;
            path.remove_prefix(seg.size());
        }
        return true;
    }

    static http_response serve(http_request const& req, std::filesystem::path const& file) {
        namespace http = boost::beast::http;
        std::ifstream in(file, std::ios::binary);
        if (!in || std::filesystem::is_directory(file))
            return answer(req, http::status::not_found, "text/plain", "Not Found");
        std::string body{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
        auto res = answer(req, http::status::ok, content_type(file), std::move(body));
        res.set(http::field::cache_control, "no-cache");
        return res;
    }

    static http_response answer(http_request const& req, boost::beast::http::status s,
                                std::string_view type, std::string body) {
        namespace http = boost::beast::http;
        http_response res(s, req.version());
        res.set(http::field::content_type, type);
        res.body() = std::move(body);
        res.prepare_payload();
        if (req.method() == http::verb::head)
            res.body().clear(); // Content-Length stays that of the GET
        return res;
    }

    std::filesystem::path root_;
    std::map<std::string, std::filesystem::path, std::less<>> aliases_;
};

} // namespace roomcast

#endif
