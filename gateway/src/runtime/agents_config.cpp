#include "runtime/agents_config.h"

#include "config/config.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <set>

namespace agentd::gateway::runtime {

namespace {

using config::ConfigError;
using nlohmann::json;

[[noreturn]] void fail(const std::string& key, const std::string& what) {
    throw ConfigError(key + ": " + what);
}

std::string join(const std::string& path, std::string_view key) {
    return path + "." + std::string(key);
}

const json& object(const json& v, const std::string& key) {
    if (!v.is_object()) {
        fail(key, "must be a JSON object (got " + std::string(v.type_name()) + ")");
    }
    return v;
}

std::string string_of(const json& v, const std::string& key, std::size_t max = 1U << 20) {
    if (!v.is_string()) {
        fail(key, "must be a string (got " + v.dump() + ")");
    }
    auto s = v.get<std::string>();
    if (s.size() > max) {
        fail(key, "is too long (at most " + std::to_string(max) + " bytes)");
    }
    return s;
}

std::vector<std::string> strings_of(const json& v, const std::string& key) {
    if (!v.is_array()) {
        fail(key, "must be an array of strings");
    }
    std::vector<std::string> out;
    for (std::size_t i = 0; i < v.size(); ++i) {
        out.push_back(string_of(v[i], key + "[" + std::to_string(i) + "]", 4096));
    }
    return out;
}

std::int64_t int_of(const json& v, const std::string& key, std::int64_t min, std::int64_t max) {
    if (!v.is_number_integer() || v.get<std::int64_t>() < min || v.get<std::int64_t>() > max ||
        (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(max))) {
        fail(key, "must be an integer in [" + std::to_string(min) + ", " + std::to_string(max) +
                      "] (got " + v.dump() + ")");
    }
    return v.get<std::int64_t>();
}

float float_of(const json& v, const std::string& key, double min, double max) {
    if (!v.is_number() || v.get<double>() < min || v.get<double>() > max) {
        fail(key, "must be a number in [" + std::to_string(min) + ", " + std::to_string(max) +
                      "] (got " + v.dump() + ")");
    }
    return static_cast<float>(v.get<double>());
}

bool bool_of(const json& v, const std::string& key) {
    if (!v.is_boolean()) {
        fail(key, "must be true or false (got " + v.dump() + ")");
    }
    return v.get<bool>();
}

std::string name_of(const json& v, const std::string& key) {
    auto name = string_of(v, key, 64);
    if (!is_valid_agent_name(name)) {
        fail(key, "must be 1-64 characters of A-Z a-z 0-9 _ - (got \"" + name + "\")");
    }
    return name;
}

SkillSpec parse_skill(const json& v, const std::string& key) {
    SkillSpec s;
    for (const auto& [k, item] : object(v, key).items()) {
        const auto ik = join(key, k);
        if (k == "id") {
            s.id = string_of(item, ik, 256);
        } else if (k == "name") {
            s.name = string_of(item, ik, 256);
        } else if (k == "description") {
            s.description = string_of(item, ik, 4096);
        } else if (k == "tags") {
            s.tags = strings_of(item, ik);
        } else if (k == "examples") {
            s.examples = strings_of(item, ik);
        } else {
            fail(ik, "unknown key");
        }
    }
    if (s.id.empty()) {
        fail(join(key, "id"), "is required");
    }
    if (s.name.empty()) {
        s.name = s.id;
    }
    return s;
}

void parse_sampling(SamplingSpec& s, const json& v, const std::string& key) {
    for (const auto& [k, item] : object(v, key).items()) {
        const auto ik = join(key, k);
        if (k == "temperature") {
            s.temperature = float_of(item, ik, 0.0, 5.0);
        } else if (k == "top_p") {
            s.top_p = float_of(item, ik, 0.0, 1.0);
        } else if (k == "top_k") {
            s.top_k = static_cast<std::int32_t>(int_of(item, ik, 0, 100000));
        } else if (k == "seed") {
            s.seed = static_cast<std::uint64_t>(int_of(item, ik, 0, INT64_MAX));
        } else if (k == "max_tokens") {
            s.max_tokens = static_cast<std::int32_t>(int_of(item, ik, 1, 1 << 20));
        } else {
            fail(ik, "unknown key");
        }
    }
}

void parse_context(ContextPolicy& c, const json& v, const std::string& key) {
    for (const auto& [k, item] : object(v, key).items()) {
        const auto ik = join(key, k);
        if (k == "max_context_tokens") {
            c.max_context_tokens = static_cast<std::int32_t>(int_of(item, ik, 0, 1 << 22));
        } else if (k == "recent_messages") {
            c.recent_messages = static_cast<std::int32_t>(int_of(item, ik, 0, 100000));
        } else if (k == "summarize") {
            c.summarize = bool_of(item, ik);
        } else if (k == "retrieve_memories") {
            c.retrieve_memories = bool_of(item, ik);
        } else {
            fail(ik, "unknown key");
        }
    }
}

AgentSpec parse_agent(const json& v, const std::string& key) {
    AgentSpec a;
    for (const auto& [k, item] : object(v, key).items()) {
        const auto ik = join(key, k);
        if (k == "name") {
            a.name = name_of(item, ik);
        } else if (k == "description") {
            a.description = string_of(item, ik, 4096);
        } else if (k == "version") {
            a.version = string_of(item, ik, 64);
        } else if (k == "skills") {
            if (!item.is_array()) {
                fail(ik, "must be an array of skill objects");
            }
            for (std::size_t i = 0; i < item.size(); ++i) {
                a.skills.push_back(parse_skill(item[i], ik + "[" + std::to_string(i) + "]"));
            }
        } else if (k == "system_prompt") {
            a.system_prompt = string_of(item, ik);
        } else if (k == "sampling") {
            parse_sampling(a.sampling, item, ik);
        } else if (k == "tools") {
            a.tools = strings_of(item, ik);
        } else if (k == "tool_choice") {
            a.tool_choice = string_of(item, ik, 128);
        } else if (k == "followup_tool_choice") {
            a.followup_tool_choice = string_of(item, ik, 128);
        } else if (k == "tool_schemas") {
            for (const auto& [tool, schema] : object(item, ik).items()) {
                if (!schema.is_object()) {
                    fail(join(ik, tool), "must be a JSON Schema object");
                }
                a.tool_schemas[tool] = schema.dump();
            }
        } else if (k == "max_steps") {
            a.max_steps = static_cast<std::int32_t>(int_of(item, ik, 1, 64));
        } else if (k == "time_budget_ms") {
            a.time_budget = std::chrono::milliseconds(int_of(item, ik, 1, 24LL * 3600 * 1000));
        } else if (k == "token_budget") {
            a.token_budget = static_cast<std::int32_t>(int_of(item, ik, 1, 1 << 22));
        } else if (k == "context") {
            parse_context(a.context, item, ik);
        } else {
            fail(ik, "unknown key");
        }
    }
    if (a.name.empty()) {
        fail(join(key, "name"), "is required");
    }
    for (const auto* choice : {&a.tool_choice, &a.followup_tool_choice}) {
        const bool keyword = *choice == "auto" || *choice == "required" || *choice == "none";
        if (!keyword && std::find(a.tools.begin(), a.tools.end(), *choice) == a.tools.end()) {
            fail(join(key, choice == &a.tool_choice ? "tool_choice" : "followup_tool_choice"),
                 "must be auto, required, none or one of the agent's tools (got \"" + *choice +
                     "\")");
        }
    }
    return a;
}

PeerSpec parse_peer(const json& v, const std::string& key) {
    PeerSpec p;
    for (const auto& [k, item] : object(v, key).items()) {
        const auto ik = join(key, k);
        if (k == "name") {
            p.name = name_of(item, ik);
        } else if (k == "card_url") {
            p.card_url = string_of(item, ik, 4096);
            if (!p.card_url.starts_with("http://") && !p.card_url.starts_with("https://")) {
                fail(ik, "must be an http:// or https:// URL");
            }
        } else if (k == "description") {
            p.description = string_of(item, ik, 4096);
        } else if (k == "timeout_ms") {
            p.timeout = std::chrono::milliseconds(int_of(item, ik, 1, 24LL * 3600 * 1000));
        } else if (k == "token_env") {
            const auto var = string_of(item, ik, 256);
            const char* value = std::getenv(var.c_str());
            if (value == nullptr || *value == '\0') {
                fail(ik, "environment variable " + var + " is not set");
            }
            p.bearer_token = value;
        } else {
            fail(ik, "unknown key");
        }
    }
    if (p.name.empty()) {
        fail(join(key, "name"), "is required");
    }
    if (p.card_url.empty()) {
        fail(join(key, "card_url"), "is required");
    }
    return p;
}

} // namespace

bool is_valid_agent_name(std::string_view name) {
    if (name.empty() || name.size() > 64) {
        return false;
    }
    for (const char c : name) {
        if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '_' && c != '-') {
            return false;
        }
    }
    return true;
}

void parse_agents(AgentsConfig& out, const json& value, const std::string& key) {
    if (!value.is_array()) {
        fail(key, "must be an array of agent objects");
    }
    std::set<std::string> names;
    out.agents.clear();
    for (std::size_t i = 0; i < value.size(); ++i) {
        const std::string ik = key + "[" + std::to_string(i) + "]";
        auto agent = parse_agent(value[i], ik);
        if (!names.insert(agent.name).second) {
            fail(ik + ".name", "duplicate agent name \"" + agent.name + "\"");
        }
        out.agents.push_back(std::move(agent));
    }
}

void parse_peers(AgentsConfig& out, const json& value, const std::string& key) {
    if (!value.is_array()) {
        fail(key, "must be an array of peer objects");
    }
    std::set<std::string> names;
    out.peers.clear();
    for (std::size_t i = 0; i < value.size(); ++i) {
        const std::string ik = key + "[" + std::to_string(i) + "]";
        auto peer = parse_peer(value[i], ik);
        if (!names.insert(peer.name).second) {
            fail(ik + ".name", "duplicate peer name \"" + peer.name + "\"");
        }
        out.peers.push_back(std::move(peer));
    }
}

void parse_a2a(AgentsConfig& out, const json& value, const std::string& key) {
    auto& a = out.a2a;
    for (const auto& [k, item] : object(value, key).items()) {
        const auto ik = join(key, k);
        if (k == "default_agent") {
            a.default_agent = name_of(item, ik);
        } else if (k == "push_allow_loopback") {
            a.push_allow_loopback = bool_of(item, ik);
        } else if (k == "push_allow_private") {
            a.push_allow_private = bool_of(item, ik);
        } else if (k == "push_timeout_ms") {
            a.push_timeout = std::chrono::milliseconds(int_of(item, ik, 1, 600'000));
        } else if (k == "push_max_attempts") {
            a.push_max_attempts = static_cast<std::uint32_t>(int_of(item, ik, 1, 20));
        } else if (k == "max_live_tasks") {
            a.max_live_tasks = static_cast<std::uint32_t>(int_of(item, ik, 1, 10'000'000));
        } else {
            fail(ik, "unknown key");
        }
    }
}

void parse_tracing(AgentsConfig& out, const json& value, const std::string& key) {
    for (const auto& [k, item] : object(value, key).items()) {
        const auto ik = join(key, k);
        if (k == "otlp_endpoint") {
            out.otlp_endpoint = string_of(item, ik, 2048);
            if (!out.otlp_endpoint.starts_with("http://") &&
                !out.otlp_endpoint.starts_with("https://")) {
                fail(ik, "must be an http:// or https:// URL");
            }
            while (!out.otlp_endpoint.empty() && out.otlp_endpoint.back() == '/') {
                out.otlp_endpoint.pop_back();
            }
        } else {
            fail(ik, "unknown key");
        }
    }
}

} // namespace agentd::gateway::runtime
