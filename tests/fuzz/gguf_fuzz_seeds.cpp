// Writes the fuzz target's seed corpus into a directory: agentd_gguf_fuzz_seeds DIR.
// Reads the shared reference files when present ($AGENTD_SHARED_DIR or ../shared); under CI=true
// their absence is an error.

#include "agentd/test/env.h"

#include "fuzz_seeds.h"

#include <cstdio>
#include <fstream>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fputs("usage: agentd_gguf_fuzz_seeds DIR\n", stderr);
        return 2;
    }
    const auto shared = agentd::test::shared_dir();
    if (!shared && agentd::test::running_in_ci()) {
        std::fputs("agentd_gguf_fuzz_seeds: shared data missing under CI\n", stderr);
        return 1;
    }
    const std::filesystem::path dir = argv[1];
    std::filesystem::create_directories(dir);
    const auto seeds = agentd::fuzz::seed_inputs(shared);
    for (size_t i = 0; i < seeds.size(); ++i) {
        std::ofstream out(dir / ("seed-" + std::to_string(i)), std::ios::binary);
        out.write(reinterpret_cast<const char*>(seeds[i].data()),
                  static_cast<std::streamsize>(seeds[i].size()));
        if (!out) {
            std::fprintf(stderr, "agentd_gguf_fuzz_seeds: cannot write %s\n", dir.c_str());
            return 1;
        }
    }
    std::printf("%zu seeds in %s\n", seeds.size(), dir.c_str());
    return 0;
}
