// Fuzz target: the streaming tool-call parser and the JSON codec. The first byte picks the
// format and options, the rest is fed in pieces whose sizes come from the data itself.

#include "agentd/inference/tool_calls.h"
#include "agentd/inference/value_json.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace agentd::inference;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2 || size > 1 << 16) {
        return 0;
    }
    std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    // JSON round trip: what we write, we read back identically.
    if (auto v = parse_json(text)) {
        auto again = parse_json(to_json(*v));
        if (!again || !(*again == *v)) {
            std::abort();
        }
    }
    ToolCallParserOptions opt;
    opt.format = static_cast<ToolCallFormat>(data[0] % 8);
    opt.reasoning = (data[0] & 8) != 0;
    opt.starts_in_reasoning = (data[0] & 16) != 0;
    opt.max_buffer_bytes = 4096;
    ToolCallParser p(opt);
    std::size_t pos = 0;
    std::size_t chunk = 1 + (data[0] >> 5);
    while (pos < text.size()) {
        (void)p.feed(text.substr(pos, chunk));
        pos += chunk;
    }
    (void)p.finish();
    return 0;
}
