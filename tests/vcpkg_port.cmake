# Runs ports/roomcast/portfile.cmake with stand-ins for the vcpkg helpers it calls: the
# configure and install are real (this checkout, into WORK_DIR/packages as vcpkg's
# CURRENT_PACKAGES_DIR), the rest checks what the port asks for and lays files out as vcpkg
# would. vcpkg itself is not needed; what only vcpkg does (the config fix-up's path rewriting,
# its post-build checks) is not covered here.
cmake_minimum_required(VERSION 3.20)
file(REMOVE_RECURSE ${WORK_DIR})
set(PORT roomcast)
set(CURRENT_PACKAGES_DIR ${WORK_DIR}/packages)

function(run)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "failed: ${ARGN}\n${out}")
    endif()
endfunction()

function(vcpkg_cmake_configure)
    cmake_parse_arguments(PARSE_ARGV 0 arg "" "SOURCE_PATH" "OPTIONS")
    if(NOT EXISTS "${arg_SOURCE_PATH}/CMakeLists.txt")
        message(FATAL_ERROR "SOURCE_PATH ${arg_SOURCE_PATH} is not roomcast's checkout")
    endif()
    foreach(option ROOMCAST_BUILD_TESTS ROOMCAST_BUILD_EXAMPLES ROOMCAST_BUILD_BENCH)
        if(NOT "-D${option}=OFF" IN_LIST arg_OPTIONS)
            message(FATAL_ERROR "the port does not pass -D${option}=OFF")
        endif()
    endforeach()
    run(${CMAKE_COMMAND} -S ${arg_SOURCE_PATH} -B ${WORK_DIR}/build -G ${GENERATOR}
        -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=${CURRENT_PACKAGES_DIR} ${arg_OPTIONS})
endfunction()

function(vcpkg_cmake_install)
    run(${CMAKE_COMMAND} --install ${WORK_DIR}/build)
endfunction()

function(vcpkg_cmake_config_fixup)
    cmake_parse_arguments(PARSE_ARGV 0 arg "" "CONFIG_PATH" "")
    set(from ${CURRENT_PACKAGES_DIR}/${arg_CONFIG_PATH})
    foreach(f roomcastConfig.cmake roomcastConfigVersion.cmake roomcastTargets.cmake)
        if(NOT EXISTS ${from}/${f})
            message(FATAL_ERROR "CONFIG_PATH ${arg_CONFIG_PATH} holds no ${f}")
        endif()
    endforeach()
    file(GLOB files ${from}/*.cmake)
    file(COPY ${files} DESTINATION ${CURRENT_PACKAGES_DIR}/share/${PORT})
    file(REMOVE_RECURSE ${from})
endfunction()

function(vcpkg_install_copyright)
    cmake_parse_arguments(PARSE_ARGV 0 arg "" "" "FILE_LIST")
    foreach(f IN LISTS arg_FILE_LIST)
        if(NOT EXISTS ${f})
            message(FATAL_ERROR "the copyright file ${f} does not exist")
        endif()
    endforeach()
    configure_file(${arg_FILE_LIST} ${CURRENT_PACKAGES_DIR}/share/${PORT}/copyright COPYONLY)
endfunction()

include(${SOURCE_DIR}/ports/roomcast/portfile.cmake)

if(NOT VCPKG_BUILD_TYPE STREQUAL "release")
    message(FATAL_ERROR "a header-only port builds the release configuration only")
endif()
foreach(f include/roomcast/roomcast.hpp include/roomcast/version.hpp
          share/roomcast/roomcastConfig.cmake share/roomcast/roomcastTargets.cmake
          share/roomcast/usage share/roomcast/copyright)
    if(NOT EXISTS ${CURRENT_PACKAGES_DIR}/${f})
        message(FATAL_ERROR "the port's package has no ${f}")
    endif()
endforeach()
foreach(d debug lib bin share/doc share/roomcast/cmake)
    if(EXISTS ${CURRENT_PACKAGES_DIR}/${d})
        message(FATAL_ERROR "the port's package has ${d}, which a header-only port must not")
    endif()
endforeach()
message(STATUS "the vcpkg port lays out a header-only package in ${CURRENT_PACKAGES_DIR}")
