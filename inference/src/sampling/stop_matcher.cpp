#include "agentd/inference/sampling.h"

#include "value/utf8.h"

#include <algorithm>

namespace agentd::inference {

StopMatcher::StopMatcher(std::vector<std::string> stops, bool hold_partial_utf8)
    : hold_partial_utf8_(hold_partial_utf8) {
    for (auto& s : stops) {
        if (!s.empty()) {
            stops_.push_back(std::move(s));
        }
    }
}

StopMatcher::Output StopMatcher::feed(std::string_view piece) {
    Output out;
    if (stopped_) {
        out.stopped = true;
        return out;
    }
    pending_.append(piece);
    // Earliest complete stop string wins; at equal positions the longer one.
    std::size_t best = std::string::npos;
    const std::string* which = nullptr;
    for (const auto& s : stops_) {
        auto k = pending_.find(s);
        if (k != std::string::npos &&
            (k < best || (k == best && which != nullptr && s.size() > which->size()))) {
            best = k;
            which = &s;
        }
    }
    if (which != nullptr) {
        out.text = pending_.substr(0, best);
        out.stopped = true;
        out.matched = *which;
        pending_.clear();
        stopped_ = true;
        return out;
    }
    // Hold back the longest tail that is a prefix of some stop string.
    std::size_t hold = 0;
    for (const auto& s : stops_) {
        std::size_t max_len = std::min(s.size() - 1, pending_.size());
        for (std::size_t len = max_len; len > hold; --len) {
            if (pending_.compare(pending_.size() - len, len, s, 0, len) == 0) {
                hold = len;
                break;
            }
        }
    }
    std::size_t emit = pending_.size() - hold;
    if (hold_partial_utf8_) {
        emit = std::min(emit, utf8::complete_prefix(std::string_view(pending_).substr(0, emit)));
    }
    out.text = pending_.substr(0, emit);
    pending_.erase(0, emit);
    return out;
}

std::string StopMatcher::finish() {
    if (stopped_) {
        return {};
    }
    std::string rest = std::move(pending_);
    pending_.clear();
    return rest;
}

} // namespace agentd::inference
