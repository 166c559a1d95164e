#pragma once
/// The route table behind http::Router (handler.h describes the matching rules).
///
/// Ownership: owns the handlers. Thread affinity: add() and freeze() during start-up on one
/// thread; after freeze() the table is immutable and match() may be called from any thread.
/// Errors: a malformed pattern or a duplicate route is a programming error (AGENTD_CHECK);
/// match() never fails, it reports not-found / method-not-allowed in its result.

#include "http/handler.h"

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace agentd::gateway::http {

class RouteTable final : public Router {
public:
    struct Match {
        enum class Kind {
            found,              ///< handler/options/pattern are set
            not_found,          ///< no route matches the path
            method_not_allowed, ///< allow lists the methods the path accepts
            options,            ///< OPTIONS on a path without an OPTIONS route; allow is set
        };
        Kind kind = Kind::not_found;
        const Handler* handler = nullptr;
        const RouteOptions* options = nullptr;
        std::size_t route_index = 0;
        std::string allow; ///< "GET, HEAD, OPTIONS" style, for 405 and OPTIONS
        std::vector<std::pair<std::string, std::string>> params;
    };

    void add(std::string method, std::string pattern, Handler handler,
             RouteOptions options = {}) override;

    /// Makes the table immutable; later add() calls abort.
    void freeze() noexcept { frozen_ = true; }

    /// Looks up `path` (raw, percent-encoded, without the query).
    [[nodiscard]] Match match(std::string_view method, std::string_view path) const;

    [[nodiscard]] std::size_t size() const noexcept { return routes_.size(); }
    /// The metrics/log label of route `index` (its metrics_name, else its pattern).
    [[nodiscard]] const std::string& label(std::size_t index) const;

private:
    enum class SegmentKind { literal = 0, param = 1, tail = 2 };
    struct Segment {
        SegmentKind kind;
        std::string text; ///< literal text (decoded) or parameter name
    };
    struct Route {
        std::string method;
        std::string pattern;
        std::vector<Segment> segments;
        Handler handler;
        RouteOptions options;
        std::string label;
    };

    [[nodiscard]] static bool match_path(const Route& route,
                                         const std::vector<std::string>& decoded,
                                         std::vector<std::pair<std::string, std::string>>* params);
    [[nodiscard]] static bool more_specific(const Route& a, const Route& b);

    std::vector<Route> routes_;
    bool frozen_ = false;
};

} // namespace agentd::gateway::http
