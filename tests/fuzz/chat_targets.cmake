# Fuzz targets of the chat layer (templates, grammars, tool-call parsing). Included by
# tests/fuzz/CMakeLists.txt, which builds them only with AGENTD_FUZZ=ON and clang.
foreach(_chat_fuzz jinja_template json_schema_grammar tool_call_parser)
    add_executable(agentd_fuzz_${_chat_fuzz} "${CMAKE_CURRENT_LIST_DIR}/${_chat_fuzz}_fuzz.cpp")
    target_link_libraries(agentd_fuzz_${_chat_fuzz} PRIVATE agentd::inference)
    target_compile_options(agentd_fuzz_${_chat_fuzz} PRIVATE -fsanitize=fuzzer)
    target_link_options(agentd_fuzz_${_chat_fuzz} PRIVATE -fsanitize=fuzzer)
    agentd_target_warnings(agentd_fuzz_${_chat_fuzz})
endforeach()
