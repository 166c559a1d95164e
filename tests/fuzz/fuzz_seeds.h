#pragma once
/// Seed inputs for the GGUF/tokenizer fuzz target: small synthetic vocabularies and models made
/// with the test GGUF writer, and shrunken copies of the shared reference files (every key kept,
/// arrays cut to a few elements, tensors cut to one block) so that each run stays fast.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

namespace agentd::fuzz {

/// GGUF images of tiny SentencePiece, byte-level BPE (several pre-tokenizers) and WordPiece
/// vocabularies.
std::vector<std::vector<uint8_t>> synthetic_vocab_images();

/// Fuzzer inputs (mode byte included): the synthetic vocabularies, synthetic models with
/// tensors of many types and nested arrays, shrunken shared files when `shared` is given, and
/// texts for the tokenizing mode.
std::vector<std::vector<uint8_t>> seed_inputs(const std::optional<std::filesystem::path>& shared);

} // namespace agentd::fuzz
