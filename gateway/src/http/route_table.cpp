#include "http/route_table.h"

#include "agentd/base/check.h"

#include "http/text.h"

#include <algorithm>
#include <set>

namespace agentd::gateway::http {
namespace {

std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> out;
    if (path.empty() || path == "/") {
        return out;
    }
    if (path.front() == '/') {
        path.remove_prefix(1);
    }
    while (true) {
        const auto slash = path.find('/');
        out.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) {
            break;
        }
        path.remove_prefix(slash + 1);
    }
    return out;
}

bool accepts(std::string_view route_method, std::string_view method) {
    return route_method == "*" || route_method == method;
}

} // namespace

void RouteTable::add(std::string method, std::string pattern, Handler handler,
                     RouteOptions options) {
    AGENTD_CHECK(!frozen_, "routes are registered before the server starts");
    AGENTD_CHECK(method == "*" || is_token(method), "route method must be an HTTP token or *");
    AGENTD_CHECK(!pattern.empty() && pattern.front() == '/', "route patterns start with '/'");
    AGENTD_CHECK(handler != nullptr, "a route needs a handler");

    Route route;
    const auto raw = split_path(pattern);
    for (std::size_t i = 0; i < raw.size(); ++i) {
        const std::string_view seg = raw[i];
        if (seg == "*") {
            AGENTD_CHECK(i + 1 == raw.size(), "'*' is only allowed as the last segment");
            route.segments.push_back({SegmentKind::tail, "*"});
        } else if (seg.size() >= 2 && seg.front() == '{' && seg.back() == '}') {
            std::string name(seg.substr(1, seg.size() - 2));
            AGENTD_CHECK(!name.empty() && name.find_first_of("{}/") == std::string::npos,
                         "route parameter names are non-empty and plain");
            for (const auto& s : route.segments) {
                AGENTD_CHECK(s.kind != SegmentKind::param || s.text != name,
                             "route parameter names are unique within a pattern");
            }
            route.segments.push_back({SegmentKind::param, std::move(name)});
        } else {
            AGENTD_CHECK(seg.find_first_of("{}") == std::string_view::npos,
                         "literal route segments contain no braces");
            auto decoded = percent_decode(seg);
            AGENTD_CHECK(decoded.has_value(), "literal route segments are valid percent-encoding");
            route.segments.push_back({SegmentKind::literal, std::move(*decoded)});
        }
    }
    for (const auto& r : routes_) {
        AGENTD_CHECK(!(r.pattern == pattern && r.method == method), "duplicate route");
    }
    route.method = std::move(method);
    route.label = options.metrics_name.empty() ? pattern : options.metrics_name;
    route.pattern = std::move(pattern);
    route.handler = std::move(handler);
    route.options = std::move(options);
    routes_.push_back(std::move(route));
}

const std::string& RouteTable::label(std::size_t index) const {
    AGENTD_CHECK(index < routes_.size(), "route index comes from match()");
    return routes_[index].label;
}

bool RouteTable::match_path(const Route& route, const std::vector<std::string>& decoded,
                            std::vector<std::pair<std::string, std::string>>* params) {
    const auto& segs = route.segments;
    const bool has_tail = !segs.empty() && segs.back().kind == SegmentKind::tail;
    const std::size_t fixed = has_tail ? segs.size() - 1 : segs.size();
    if (has_tail ? decoded.size() < segs.size() : decoded.size() != segs.size()) {
        return false;
    }
    for (std::size_t i = 0; i < fixed; ++i) {
        if (segs[i].kind == SegmentKind::literal && segs[i].text != decoded[i]) {
            return false;
        }
    }
    if (params == nullptr) {
        return true;
    }
    for (std::size_t i = 0; i < fixed; ++i) {
        if (segs[i].kind == SegmentKind::param) {
            params->emplace_back(segs[i].text, decoded[i]);
        }
    }
    if (has_tail) {
        std::string rest;
        for (std::size_t i = fixed; i < decoded.size(); ++i) {
            if (i > fixed) {
                rest.push_back('/');
            }
            rest.append(decoded[i]);
        }
        params->emplace_back("*", std::move(rest));
    }
    return true;
}

bool RouteTable::more_specific(const Route& a, const Route& b) {
    const std::size_t n = std::min(a.segments.size(), b.segments.size());
    for (std::size_t i = 0; i < n; ++i) {
        if (a.segments[i].kind != b.segments[i].kind) {
            return a.segments[i].kind < b.segments[i].kind;
        }
    }
    return a.segments.size() > b.segments.size();
}

RouteTable::Match RouteTable::match(std::string_view method, std::string_view path) const {
    Match m;
    const auto raw = split_path(path);
    std::vector<std::string> decoded;
    decoded.reserve(raw.size());
    for (auto seg : raw) {
        auto d = percent_decode(seg);
        if (!d) {
            return m; // undecodable paths match nothing
        }
        decoded.push_back(std::move(*d));
    }

    const Route* best = nullptr;
    std::size_t best_index = 0;
    const Route* best_get = nullptr; // HEAD falls back to GET
    std::size_t best_get_index = 0;
    std::set<std::string> allow;
    bool path_matched = false;
    for (std::size_t i = 0; i < routes_.size(); ++i) {
        const Route& r = routes_[i];
        if (!match_path(r, decoded, nullptr)) {
            continue;
        }
        path_matched = true;
        allow.insert(r.method);
        if (accepts(r.method, method)) {
            if (best == nullptr || more_specific(r, *best)) {
                best = &r;
                best_index = i;
            }
        } else if (method == "HEAD" && r.method == "GET") {
            if (best_get == nullptr || more_specific(r, *best_get)) {
                best_get = &r;
                best_get_index = i;
            }
        }
    }
    if (best == nullptr && best_get != nullptr) {
        best = best_get;
        best_index = best_get_index;
    }
    if (best != nullptr) {
        m.kind = Match::Kind::found;
        m.handler = &best->handler;
        m.options = &best->options;
        m.route_index = best_index;
        (void)match_path(*best, decoded, &m.params);
        return m;
    }
    if (!path_matched) {
        return m;
    }
    if (allow.count("GET") != 0) {
        allow.insert("HEAD");
    }
    allow.insert("OPTIONS");
    for (const auto& a : allow) {
        if (!m.allow.empty()) {
            m.allow.append(", ");
        }
        m.allow.append(a);
    }
    m.kind = method == "OPTIONS" ? Match::Kind::options : Match::Kind::method_not_allowed;
    return m;
}

} // namespace agentd::gateway::http
