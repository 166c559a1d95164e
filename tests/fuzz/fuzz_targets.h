#pragma once
/// Shared by the libFuzzer target and its replay driver: the vocabularies the text-tokenizing
/// half of the fuzz target uses (small synthetic ones, plus the shared vocab files when present).

#include "agentd/inference/tokenizer.h"

#include <vector>

namespace agentd::fuzz {

/// Built once, on first use; never destroyed (the fuzzer exits without unwinding).
const std::vector<inference::Tokenizer>& fuzz_tokenizers();

} // namespace agentd::fuzz
