#pragma once
// MCP method handlers and the helpers they share. Each handler answers on its exchange (now or
// later); none throws or blocks. Internal to protocols.

#include "mcp/codec.h"
#include "mcp/exchange.h"
#include "mcp/server_impl.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace agentd::protocols::mcp::detail {

using ExchangePtr = std::shared_ptr<Exchange>;
using MethodHandler = void (*)(ServerImpl&, const ExchangePtr&, const MirroredHeaders*);

// Session revisions only.
void logging_set_level(ServerImpl& server, const ExchangePtr& ex, const MirroredHeaders* headers);
void resources_subscribe(ServerImpl& server, const ExchangePtr& ex, const MirroredHeaders* headers);
void resources_unsubscribe(ServerImpl& server, const ExchangePtr& ex,
                           const MirroredHeaders* headers);
// 2026-07-28 only.
void server_discover(ServerImpl& server, const ExchangePtr& ex, const MirroredHeaders* headers);
void subscriptions_listen(ServerImpl& server, const ExchangePtr& ex,
                          const MirroredHeaders* headers);
// Every revision.
void tools_list(ServerImpl& server, const ExchangePtr& ex, const MirroredHeaders* headers);
void tools_call(ServerImpl& server, const ExchangePtr& ex, const MirroredHeaders* headers);
void resources_list(ServerImpl& server, const ExchangePtr& ex, const MirroredHeaders* headers);
void resources_templates_list(ServerImpl& server, const ExchangePtr& ex,
                              const MirroredHeaders* headers);
void resources_read(ServerImpl& server, const ExchangePtr& ex, const MirroredHeaders* headers);
void prompts_list(ServerImpl& server, const ExchangePtr& ex, const MirroredHeaders* headers);
void prompts_get(ServerImpl& server, const ExchangePtr& ex, const MirroredHeaders* headers);
void completion_complete(ServerImpl& server, const ExchangePtr& ex, const MirroredHeaders* headers);

/// Answers -32602 with `message`.
void invalid_params(const ExchangePtr& ex, std::string message);

/// A page of a sorted list: [begin, end) and the cursor of the next page, if any.
struct PageBounds {
    std::size_t begin = 0;
    std::size_t end = 0;
    std::optional<std::string> next_cursor;
};

/// Reads `params.cursor` (opaque, for list `kind`) and bounds the page of `keys` (sorted).
/// An error answer has been sent when this returns nullopt.
template <class T, class Key>
std::optional<PageBounds> paginate(const ServerImpl& server, const ExchangePtr& ex,
                                   std::string_view kind, const std::vector<T>& items, Key key);

/// Runs an input-capable method's flow: on 2026-07-28 reads `inputResponses` and `requestState`
/// from the params (verifying the state), then starts the first attempt.
void run_flow(ServerImpl& server, const ExchangePtr& ex, std::shared_ptr<Flow> flow);

/// Checks the Mcp-Method/Mcp-Name/MCP-Protocol-Version headers against the body of a 2026-07-28
/// request. Returns a description of the first mismatch.
[[nodiscard]] std::optional<std::string> check_mirrored_headers(const jsonrpc::Message& message,
                                                                const MirroredHeaders& headers);
/// Checks the Mcp-Param-{Name} headers of a tools/call against the tool's `x-mcp-header`
/// annotations and the arguments. Returns a description of the first mismatch.
[[nodiscard]] std::optional<std::string> check_param_headers(const nlohmann::json& input_schema,
                                                             const nlohmann::json& arguments,
                                                             const MirroredHeaders& headers);
/// Decodes a header value that may use the `=?base64?...?=` sentinel; nullopt when malformed.
[[nodiscard]] std::optional<std::string> decode_header_value(std::string_view value);

// ---- template definitions ----

std::optional<std::string> cursor_last_key(const ExchangePtr& ex, std::string_view kind);

template <class T, class Key>
std::optional<PageBounds> paginate(const ServerImpl& server, const ExchangePtr& ex,
                                   std::string_view kind, const std::vector<T>& items, Key key) {
    const nlohmann::json& params = ex->params();
    PageBounds bounds;
    if (params.contains("cursor")) {
        auto last = cursor_last_key(ex, kind);
        if (!last) {
            return std::nullopt;
        }
        // Cursors name the last key served, so pages stay stable when items come and go.
        auto it =
            std::upper_bound(items.begin(), items.end(), *last,
                             [&](const std::string& k, const T& item) { return k < key(item); });
        bounds.begin = static_cast<std::size_t>(it - items.begin());
    }
    const std::size_t page = server.options().page_size;
    bounds.end = std::min(items.size(), bounds.begin + page);
    if (bounds.end < items.size()) {
        bounds.next_cursor = encode_cursor(kind, key(items[bounds.end - 1]));
    }
    return bounds;
}

} // namespace agentd::protocols::mcp::detail
