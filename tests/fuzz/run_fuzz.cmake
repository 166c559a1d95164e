# Test driver: generates the seed corpus, then fuzzes (MODE=fuzz) or replays it (MODE=replay).
# -D SEEDS=seed generator, TARGET=fuzzer or replay binary, WORK=scratch dir, SECONDS=fuzz time.
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}/corpus")
execute_process(COMMAND "${SEEDS}" "${WORK}/seeds" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "seed generation failed (${rc})")
endif()
if(MODE STREQUAL "fuzz")
    execute_process(COMMAND "${TARGET}" "${WORK}/corpus" "${WORK}/seeds"
        -max_total_time=${SECONDS} -max_len=65536 -timeout=20 -rss_limit_mb=2048
        -artifact_prefix=${WORK}/ -print_final_stats=1
        RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "the fuzzer found a failing input (exit ${rc}); reproducer in ${WORK}")
    endif()
else()
    execute_process(COMMAND "${TARGET}" "${WORK}/seeds" RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "replaying the seed corpus failed (${rc})")
    endif()
endif()
