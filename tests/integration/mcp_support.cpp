#include "mcp_support.h"

#include <gtest/gtest.h>

namespace agentd::itest::mcp {

HttpRequest post_request(std::string body, const Headers& extra) {
    HttpRequest r;
    r.method = "POST";
    r.target = "/mcp";
    r.headers = {{"Content-Type", "application/json"},
                 {"Accept", "application/json, text/event-stream"}};
    for (const auto& h : extra) {
        r.headers.push_back(h);
    }
    r.body = std::move(body);
    return r;
}

HttpRequest post_request(const json& body, const Headers& extra) {
    return post_request(body.dump(), extra);
}

HttpResponse post(std::uint16_t port, const json& body, const Headers& extra) {
    HttpConnection c(port);
    c.send(post_request(body, extra));
    HttpResponse head;
    const auto messages = read_messages(c, &head);
    if (head.header("Content-Type").find("text/event-stream") != std::string::npos) {
        // Fold SSE into a JSON array body so callers can inspect every message.
        head.body = json(messages).dump();
    }
    return head;
}

json request(json id, const std::string& method, json params) {
    return {{"jsonrpc", "2.0"}, {"id", std::move(id)}, {"method", method}, {"params", params}};
}

json notification(const std::string& method, json params) {
    return {{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}};
}

json modern_request(json id, const std::string& method, json params, json capabilities,
                    json meta_extra) {
    json meta = {{"io.modelcontextprotocol/protocolVersion", "2026-07-28"},
                 {"io.modelcontextprotocol/clientInfo", {{"name", "itest"}, {"version", "1"}}},
                 {"io.modelcontextprotocol/clientCapabilities", std::move(capabilities)}};
    meta.update(meta_extra);
    params["_meta"] = std::move(meta);
    return request(std::move(id), method, std::move(params));
}

Headers modern_headers(const json& message) {
    Headers h = {{"MCP-Protocol-Version", "2026-07-28"},
                 {"Mcp-Method", message.at("method").get<std::string>()}};
    const json& params = message.value("params", json::object());
    if (params.contains("name") && params.at("name").is_string()) {
        h.emplace_back("Mcp-Name", params.at("name").get<std::string>());
    } else if (params.contains("uri") && params.at("uri").is_string()) {
        h.emplace_back("Mcp-Name", params.at("uri").get<std::string>());
    }
    return h;
}

std::string open_session(std::uint16_t port, const std::string& version, json capabilities) {
    auto r = post(port, request(0, "initialize",
                                {{"protocolVersion", version},
                                 {"capabilities", std::move(capabilities)},
                                 {"clientInfo", {{"name", "itest"}, {"version", "1"}}}}));
    EXPECT_EQ(r.status, 200u) << r.body;
    const std::string id = r.header("Mcp-Session-Id");
    EXPECT_FALSE(id.empty());
    auto ack = post(port, notification("notifications/initialized"), session_headers(id, version));
    EXPECT_EQ(ack.status, 202u);
    return id;
}

Headers session_headers(const std::string& session, const std::string& version) {
    return {{"Mcp-Session-Id", session}, {"MCP-Protocol-Version", version}};
}

json body_json(const HttpResponse& response) {
    json j = json::parse(response.body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "not JSON: " << response.body;
    return j;
}

std::optional<SseEvent> SseReader::next() {
    while (true) {
        const auto end = buffer_.find("\n\n");
        if (end != std::string::npos) {
            const std::string block = buffer_.substr(0, end);
            buffer_.erase(0, end + 2);
            SseEvent event;
            bool any = false;
            std::size_t pos = 0;
            while (pos <= block.size()) {
                const auto nl = block.find('\n', pos);
                const std::string line =
                    block.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
                pos = nl == std::string::npos ? block.size() + 1 : nl + 1;
                if (line.empty() || line[0] == ':') {
                    continue; // heartbeat comments
                }
                const auto colon = line.find(':');
                const std::string field = line.substr(0, colon);
                std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
                if (!value.empty() && value[0] == ' ') {
                    value.erase(0, 1);
                }
                any = true;
                if (field == "id") {
                    event.id = value;
                } else if (field == "event") {
                    event.event = value;
                } else if (field == "data") {
                    event.data += (event.data.empty() ? "" : "\n") + value;
                }
            }
            if (any) {
                return event;
            }
            continue;
        }
        if (done_) {
            return std::nullopt;
        }
        buffer_ += connection_.read_body_some(&done_);
    }
}

std::vector<SseEvent> SseReader::rest() {
    std::vector<SseEvent> events;
    while (auto e = next()) {
        events.push_back(std::move(*e));
    }
    return events;
}

std::vector<json> read_messages(HttpConnection& connection, HttpResponse* head_out) {
    HttpResponse head = connection.read_head();
    std::vector<json> messages;
    if (head.header("Content-Type").find("text/event-stream") != std::string::npos) {
        SseReader reader(connection);
        for (const auto& event : reader.rest()) {
            if (!event.data.empty()) {
                messages.push_back(json::parse(event.data));
            }
        }
    } else {
        bool done = false;
        std::string body;
        while (!done) {
            body += connection.read_body_some(&done);
        }
        head.body = body;
        if (!body.empty()) {
            messages.push_back(json::parse(body, nullptr, false));
        }
    }
    if (head_out != nullptr) {
        *head_out = head;
    }
    return messages;
}

} // namespace agentd::itest::mcp
