# agentd_add_module(<name> [PUBLIC_DEPS ...] [PRIVATE_DEPS ...])
#
# One STATIC library per top-level folder (STYLE.md 2.1): sources are <folder>/src/**/*.cpp,
# public headers <folder>/include/agentd/<name>/ (PUBLIC), internals <folder>/src (PRIVATE).
# The alias agentd::<name> is what other targets link.
function(agentd_add_module name)
    cmake_parse_arguments(ARG "" "" "PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
    file(GLOB_RECURSE sources CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/src/*.cpp")
    add_library(agentd_${name} STATIC ${sources})
    add_library(agentd::${name} ALIAS agentd_${name})
    target_include_directories(agentd_${name}
        PUBLIC "${CMAKE_CURRENT_SOURCE_DIR}/include"
        PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}/src")
    target_link_libraries(agentd_${name} PUBLIC agentd::base ${ARG_PUBLIC_DEPS}
        PRIVATE ${ARG_PRIVATE_DEPS})
    agentd_target_warnings(agentd_${name})
endfunction()

# agentd_add_gtest(<target> SOURCES ... [LIBS ...] [LABELS ...] [TIMEOUT s])
#
# One GoogleTest binary registered with CTest (test discovery happens before the tests run, so
# building never executes a test binary). Tests find ../shared through AGENTD_SHARED_DIR.
function(agentd_add_gtest target)
    cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
    if(NOT ARG_TIMEOUT)
        set(ARG_TIMEOUT 300)
    endif()
    add_executable(${target} ${ARG_SOURCES})
    target_link_libraries(${target} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gmock GTest::gtest_main
        Threads::Threads)
    target_compile_definitions(${target} PRIVATE
        AGENTD_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
        AGENTD_BINARY_DIR="${PROJECT_BINARY_DIR}")
    agentd_target_warnings(${target})
    gtest_discover_tests(${target}
        DISCOVERY_MODE PRE_TEST
        PROPERTIES TIMEOUT ${ARG_TIMEOUT}
        DISCOVERY_TIMEOUT 60)
    # Labels are set after discovery: passed through PROPERTIES, a list of several labels is
    # split apart on the way (LABELS "unit;concurrency" became LABELS unit + a bogus property).
    set(_labels_file "${CMAKE_CURRENT_BINARY_DIR}/${target}_labels.cmake")
    file(WRITE "${_labels_file}"
        "if(DEFINED ${target}_TESTS)\n"
        "  set_tests_properties(\${${target}_TESTS} PROPERTIES LABELS \"${ARG_LABELS}\")\n"
        "endif()\n")
    set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${_labels_file}")
    # The TSan tree builds only what its `concurrency` label runs (target agentd_concurrency_tests).
    if("concurrency" IN_LIST ARG_LABELS)
        set_property(GLOBAL APPEND PROPERTY AGENTD_CONCURRENCY_TEST_TARGETS ${target})
    endif()
endfunction()
