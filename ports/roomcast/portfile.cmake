# An overlay port of this checkout: `vcpkg install roomcast --overlay-ports=<checkout>/ports`,
# or "overlay-ports": ["<checkout>/ports"] in a vcpkg-configuration.json. The sources are the
# checkout this port sits in, two folders up, rather than a download: roomcast has no release
# archive to pin with a SHA512. vcpkg does not hash these sources, so after changing them,
# reinstall with binary caching off (--binarysource=clear) to rebuild the package.
get_filename_component(SOURCE_PATH "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)

# Header-only: one configuration is enough. The redis feature adds hiredis and the target
# roomcast::redis, whose config finds hiredis again where the package is used; without the
# feature, roomcast::redis is left out even if a hiredis happens to be installed.
set(VCPKG_BUILD_TYPE release)
if("redis" IN_LIST FEATURES)
    set(roomcast_redis ON)
else()
    set(roomcast_redis OFF)
endif()
# The tls feature likewise adds OpenSSL and the target roomcast::tls.
if("tls" IN_LIST FEATURES)
    set(roomcast_tls ON)
else()
    set(roomcast_tls OFF)
endif()

vcpkg_cmake_configure(
    SOURCE_PATH "${SOURCE_PATH}"
    OPTIONS
        -DROOMCAST_BUILD_TESTS=OFF
        -DROOMCAST_BUILD_EXAMPLES=OFF
        -DROOMCAST_BUILD_BENCH=OFF
        -DROOMCAST_REDIS=${roomcast_redis}
        -DROOMCAST_TLS=${roomcast_tls}
)
vcpkg_cmake_install()
# CMakeLists.txt installs the package's config in share/roomcast/cmake.
vcpkg_cmake_config_fixup(CONFIG_PATH share/roomcast/cmake)

# The license goes to share/roomcast/copyright instead of share/doc.
file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/debug" "${CURRENT_PACKAGES_DIR}/share/doc")
file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
