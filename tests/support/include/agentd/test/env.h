#pragma once
/// Where tests find things: the shared reference data, the built binary, scratch directories.

#include <filesystem>
#include <optional>
#include <string>

namespace agentd::test {

/// The ../shared folder beside the repo (or $AGENTD_SHARED_DIR). Empty when it does not exist.
std::optional<std::filesystem::path> shared_dir();

/// A file under shared/ (e.g. "models/stories260K.gguf"). When it is missing the calling test
/// is skipped (see AGENTD_REQUIRE_SHARED), except under CI=true, where it fails.
std::optional<std::filesystem::path> shared_file(const std::string& relative);

/// True when the environment says we run under CI (CI=true).
bool running_in_ci();

/// The build tree's agentd binary.
std::filesystem::path agentd_binary();

/// The repo root.
std::filesystem::path source_dir();

/// A fresh, empty directory unique to this process and `tag`, removed by the caller.
std::filesystem::path make_temp_dir(const std::string& tag);

} // namespace agentd::test

/// Skips (or, under CI, fails) the current test when a shared file is missing and binds its path.
#define AGENTD_REQUIRE_SHARED(var, relative)                                                       \
    const auto var##_opt = ::agentd::test::shared_file(relative);                                  \
    if (!var##_opt) {                                                                              \
        if (::agentd::test::running_in_ci()) {                                                     \
            FAIL() << "shared data missing under CI: " << (relative);                              \
        }                                                                                          \
        GTEST_SKIP() << "shared data not found: " << (relative);                                   \
    }                                                                                              \
    const std::filesystem::path var = *var##_opt
