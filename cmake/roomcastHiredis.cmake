# hiredis for the Redis adapter, as the target hiredis::hiredis: hiredis 1.x (Conan, vcpkg, a
# source install) exports it; Debian's 0.14 ships no usable package, so it is found by path.
if(NOT TARGET hiredis::hiredis)
    find_package(hiredis CONFIG QUIET)
endif()
if(NOT TARGET hiredis::hiredis)
    find_path(ROOMCAST_HIREDIS_INCLUDE_DIR hiredis/hiredis.h)
    find_library(ROOMCAST_HIREDIS_LIBRARY NAMES hiredis)
    if(ROOMCAST_HIREDIS_INCLUDE_DIR AND ROOMCAST_HIREDIS_LIBRARY)
        add_library(hiredis::hiredis UNKNOWN IMPORTED)
        set_target_properties(hiredis::hiredis PROPERTIES
            IMPORTED_LOCATION "${ROOMCAST_HIREDIS_LIBRARY}"
            INTERFACE_INCLUDE_DIRECTORIES "${ROOMCAST_HIREDIS_INCLUDE_DIR}")
    endif()
endif()
