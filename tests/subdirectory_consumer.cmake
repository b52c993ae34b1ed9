# Builds tests/subdirectory_consumer twice, taking roomcast's tree with add_subdirectory and
# with FetchContent, and runs the program each time.
file(REMOVE_RECURSE ${WORK_DIR})
function(run)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out
                    TIMEOUT 300)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}")
    endif()
endfunction()
foreach(use subdirectory fetchcontent)
    run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/subdirectory_consumer -B ${WORK_DIR}/${use}
        -G ${GENERATOR} -DCMAKE_BUILD_TYPE=Debug -DROOMCAST_USE=${use}
        -DROOMCAST_SOURCE_DIR=${SOURCE_DIR} -DFETCHCONTENT_SOURCE_DIR_ROOMCAST=${SOURCE_DIR}
        -DFETCHCONTENT_FULLY_DISCONNECTED=ON)
    run(${CMAKE_COMMAND} --build ${WORK_DIR}/${use})
    run(${WORK_DIR}/${use}/consumer)
endforeach()
message(STATUS "roomcast consumed with add_subdirectory and FetchContent: only its library")
