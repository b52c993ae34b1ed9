import os

from conan import ConanFile
from conan.errors import ConanInvalidConfiguration
from conan.tools.build import check_min_cppstd
from conan.tools.files import copy
from conan.tools.layout import basic_layout

required_conan_version = ">=2.0"


class RoomcastConan(ConanFile):
    name = "roomcast"
    # Equal to project(VERSION) in CMakeLists.txt and to include/roomcast/version.hpp; the
    # package_metadata test fails when they differ.
    version = "0.1.0"
    description = "Socket.IO v5 server with rooms for C++20, header-only, on Boost.Beast"
    license = "BSL-1.0"
    url = "https://github.com/roomcast/roomcast"
    homepage = "https://github.com/roomcast/roomcast"
    topics = ("socket.io", "engine.io", "websocket", "rooms", "beast", "header-only")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    options = {
        # The Redis adapter (roomcast/redis.hpp): adds hiredis and the target roomcast::redis.
        "with_redis": [True, False],
        # TLS on the server's port (roomcast/tls.hpp): adds OpenSSL and the target roomcast::tls.
        "with_tls": [True, False],
    }
    default_options = {
        "with_redis": False,
        "with_tls": False,
        # roomcast links Boost.JSON, which is a compiled Boost library.
        "boost/*:without_json": False,
    }
    exports_sources = "include/*", "LICENSE"
    no_copy_source = True

    def layout(self):
        basic_layout(self)

    def requirements(self):
        # The public headers include Asio, Beast, JSON, Describe, Mp11 and Unordered headers.
        self.requires("boost/[>=1.81 <2]", transitive_headers=True)
        if self.options.with_redis:
            self.requires("hiredis/[>=1.0 <2]", transitive_headers=True)
        if self.options.with_tls:
            self.requires("openssl/[>=1.1.1 <4]", transitive_headers=True)

    def package_id(self):
        self.info.clear()

    def validate(self):
        if self.settings.compiler.get_safe("cppstd"):
            check_min_cppstd(self, 20)
        boost = self.dependencies["boost"].options
        if boost.get_safe("header_only") or boost.get_safe("without_json"):
            raise ConanInvalidConfiguration(
                f"{self.ref} needs the compiled Boost.JSON: "
                "-o boost/*:header_only=False -o boost/*:without_json=False")

    def package(self):
        copy(self, "LICENSE", src=self.source_folder,
             dst=os.path.join(self.package_folder, "licenses"))
        for pattern in ("*.hpp", "*.ipp"):
            copy(self, pattern, src=os.path.join(self.source_folder, "include"),
                 dst=os.path.join(self.package_folder, "include"))

    def package_info(self):
        # The same names as the CMake package that `cmake --install` writes: roomcast::roomcast,
        # roomcast::redis (roomcast and hiredis) with the Redis adapter, and roomcast::tls
        # (roomcast and OpenSSL) with TLS.
        self.cpp_info.set_property("cmake_file_name", "roomcast")
        # CMakeDeps also makes a target of the whole package that links every component: named
        # after the widest component, it is that component and adds no target of its own.
        self.cpp_info.set_property(
            "cmake_target_name",
            "roomcast::redis" if self.options.with_redis
            else "roomcast::tls" if self.options.with_tls else "roomcast::roomcast")

        core = self.cpp_info.components["core"]
        core.set_property("cmake_target_name", "roomcast::roomcast")
        core.bindirs = []
        core.libdirs = []
        core.requires = ["boost::headers", "boost::json"]
        if self.settings.os in ("Linux", "FreeBSD"):
            core.system_libs = ["pthread"]

        if self.options.with_redis:
            redis = self.cpp_info.components["redis"]
            redis.set_property("cmake_target_name", "roomcast::redis")
            redis.bindirs = []
            redis.libdirs = []
            redis.includedirs = []  # core's
            redis.requires = ["core", "hiredis::hiredis"]  # the whole hiredis package

        if self.options.with_tls:
            tls = self.cpp_info.components["tls"]
            tls.set_property("cmake_target_name", "roomcast::tls")
            tls.bindirs = []
            tls.libdirs = []
            tls.includedirs = []  # core's
            tls.requires = ["core", "openssl::ssl", "openssl::crypto"]
