#include "agentd/test/env.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string_view>

namespace agentd::test {

std::optional<std::filesystem::path> shared_dir() {
    std::filesystem::path dir;
    if (const char* env = std::getenv("AGENTD_SHARED_DIR"); env != nullptr && *env != '\0') {
        dir = env;
    } else {
        dir = std::filesystem::path(AGENTD_SOURCE_DIR).parent_path() / "shared";
    }
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
        return std::nullopt;
    }
    return std::filesystem::canonical(dir, ec);
}

std::optional<std::filesystem::path> shared_file(const std::string& relative) {
    auto dir = shared_dir();
    if (!dir) {
        return std::nullopt;
    }
    auto path = *dir / relative;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        return std::nullopt;
    }
    return path;
}

bool running_in_ci() {
    const char* ci = std::getenv("CI");
    return ci != nullptr && (std::string_view(ci) == "true" || std::string_view(ci) == "1");
}

std::filesystem::path agentd_binary() {
    return std::filesystem::path(AGENTD_BINARY_DIR) / "agentd";
}

std::filesystem::path source_dir() {
    return std::filesystem::path(AGENTD_SOURCE_DIR);
}

std::filesystem::path make_temp_dir(const std::string& tag) {
    static std::atomic<int> counter{0};
    auto base = std::filesystem::temp_directory_path();
    for (int attempt = 0; attempt < 1000; ++attempt) {
        auto dir = base / ("agentd-test-" + tag + "-" + std::to_string(::getpid()) + "-" +
                           std::to_string(counter.fetch_add(1)));
        std::error_code ec;
        if (std::filesystem::create_directory(dir, ec)) {
            return dir;
        }
    }
    return {};
}

} // namespace agentd::test
