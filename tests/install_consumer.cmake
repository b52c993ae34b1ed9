# Installs roomcast into WORK_DIR/prefix, then builds test_package/ (the Conan recipe's test
# project) against it as a project of its own, and runs it. Then each example, copied out of
# the tree alone as a user starts from it, is configured against the package, and one of them
# (lobby) is built and run too: the in-tree build compiles the same sources, so this checks
# what differs out of the tree, the example's own CMakeLists.txt.
cmake_minimum_required(VERSION 3.20)
file(REMOVE_RECURSE ${WORK_DIR})
function(run)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "failed: ${ARGN}\n${out}")
    endif()
endfunction()
run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/lib -G ${GENERATOR}
    -DROOMCAST_BUILD_TESTS=OFF -DROOMCAST_BUILD_EXAMPLES=OFF -DROOMCAST_BUILD_BENCH=OFF)
run(${CMAKE_COMMAND} --install ${WORK_DIR}/lib --prefix ${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/test_package -B ${WORK_DIR}/app -G ${GENERATOR}
    -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_BUILD_TYPE=Debug)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/app)
# The program shuts its server down before running it; the timeout catches one that serves.
execute_process(COMMAND ${WORK_DIR}/app/test_package TIMEOUT 30
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "test_package, built against the installed package, failed (${rc}):\n"
                        "${out}")
endif()
message(STATUS "test_package built against the installed package in ${WORK_DIR}/prefix: ${out}")

file(GLOB examples LIST_DIRECTORIES true ${SOURCE_DIR}/examples/*)
foreach(dir IN LISTS examples)
    if(NOT EXISTS ${dir}/CMakeLists.txt)
        continue()
    endif()
    get_filename_component(name ${dir} NAME)
    file(COPY ${dir} DESTINATION ${WORK_DIR}/copied PATTERN node_modules EXCLUDE)
    run(${CMAKE_COMMAND} -S ${WORK_DIR}/copied/${name} -B ${WORK_DIR}/copied/${name}/build
        -G ${GENERATOR} -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_BUILD_TYPE=Debug)
    list(APPEND configured ${name})
endforeach()
if(NOT "lobby" IN_LIST configured)
    message(FATAL_ERROR "examples/lobby was not found among the examples: ${configured}")
endif()
run(${CMAKE_COMMAND} --build ${WORK_DIR}/copied/lobby/build)
# A bad flag makes it print its usage and exit with 2, without serving.
execute_process(COMMAND ${WORK_DIR}/copied/lobby/build/lobby --no-such-flag TIMEOUT 30
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 2 OR NOT out MATCHES "usage: .*lobby")
    message(FATAL_ERROR "the copied-out lobby example did not answer a bad flag with its usage "
                        "(${rc}):\n${out}")
endif()
message(STATUS "examples configured out of the tree against the package: ${configured}")
