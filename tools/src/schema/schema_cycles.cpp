#include "schema/schema_cycles.h"

#include <cstdint>

namespace agentd::tools::schema {
namespace {

std::vector<NodeId> in_place_edges(const Node& n) {
    std::vector<NodeId> out;
    out.insert(out.end(), n.all_of.begin(), n.all_of.end());
    out.insert(out.end(), n.any_of.begin(), n.any_of.end());
    out.insert(out.end(), n.one_of.begin(), n.one_of.end());
    out.insert(out.end(), n.refs.begin(), n.refs.end());
    for (const NodeId id : {n.not_, n.if_, n.then_, n.else_}) {
        if (id != no_node) {
            out.push_back(id);
        }
    }
    for (const auto& entry : n.dependent_schemas) {
        out.push_back(entry.second);
    }
    return out;
}

std::string display(const std::string& path) {
    return path.empty() ? std::string("(root)") : path;
}

} // namespace

std::optional<std::string> find_in_place_cycle(const std::vector<Node>& nodes) {
    enum : std::uint8_t { white, grey, black };
    std::vector<std::uint8_t> color(nodes.size(), white);
    struct Frame {
        NodeId id;
        std::vector<NodeId> edges;
        std::size_t next = 0;
    };
    for (std::size_t root = 0; root < nodes.size(); ++root) {
        if (color[root] != white) {
            continue;
        }
        std::vector<Frame> stack;
        stack.push_back({static_cast<NodeId>(root), in_place_edges(nodes[root])});
        color[root] = grey;
        while (!stack.empty()) {
            Frame& top = stack.back();
            if (top.next == top.edges.size()) {
                color[static_cast<std::size_t>(top.id)] = black;
                stack.pop_back();
                continue;
            }
            const NodeId child = top.edges[top.next++];
            const auto c = static_cast<std::size_t>(child);
            if (color[c] == grey) {
                std::string path;
                bool on_cycle = false;
                for (const Frame& f : stack) {
                    on_cycle = on_cycle || f.id == child;
                    if (on_cycle) {
                        path += display(nodes[static_cast<std::size_t>(f.id)].path) + " → ";
                    }
                }
                return path + display(nodes[c].path);
            }
            if (color[c] == white) {
                color[c] = grey;
                stack.push_back({child, in_place_edges(nodes[c])});
            }
        }
    }
    return std::nullopt;
}

} // namespace agentd::tools::schema
