# Grammar token-mask and sampler micro-benchmark on the shared real vocabularies.
add_executable(agentd_grammar_mask_bench "${CMAKE_CURRENT_LIST_DIR}/grammar_mask_bench.cpp")
target_link_libraries(agentd_grammar_mask_bench PRIVATE agentd::inference)
target_compile_definitions(agentd_grammar_mask_bench PRIVATE AGENTD_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
agentd_target_warnings(agentd_grammar_mask_bench)
