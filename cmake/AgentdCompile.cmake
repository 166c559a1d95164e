# Compiler flags shared by every agentd target: warnings, sanitizers, CPU features.

set(AGENTD_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor)
# GCC 12 reports -Wrestrict inside libstdc++'s std::string at -O3 where no overlap exists
# (GCC bug 105651, fixed in GCC 13); it is noise on correct code, so it is off for GCC < 13.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    list(APPEND AGENTD_WARNINGS -Wno-restrict)
endif()
if(AGENTD_WERROR)
    list(APPEND AGENTD_WARNINGS -Werror)
endif()

set(AGENTD_SANITIZE_FLAGS "")
if(AGENTD_SANITIZE)
    set(AGENTD_SANITIZE_FLAGS -fsanitize=${AGENTD_SANITIZE} -fno-omit-frame-pointer
        -fno-sanitize-recover=all)
    if(AGENTD_SANITIZE MATCHES "thread" AND AGENTD_SANITIZE MATCHES "address")
        message(FATAL_ERROR "AGENTD_SANITIZE: thread cannot be combined with address")
    endif()
    add_compile_options(${AGENTD_SANITIZE_FLAGS})
    add_link_options(-fsanitize=${AGENTD_SANITIZE})
endif()

# ccache when present: the CI machine builds several trees of the same sources.
find_program(AGENTD_CCACHE ccache)
if(AGENTD_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
    set(CMAKE_C_COMPILER_LAUNCHER ${AGENTD_CCACHE})
    set(CMAKE_CXX_COMPILER_LAUNCHER ${AGENTD_CCACHE})
endif()

# Applies the project's warnings to one target (third-party code is never compiled with them).
function(agentd_target_warnings target)
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX,C>:${AGENTD_WARNINGS}>)
endfunction()
