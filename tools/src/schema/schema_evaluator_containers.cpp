// Array and object keywords of the evaluator.
#include "schema/json_util.h"
#include "schema/schema_evaluator.h"

#include <algorithm>
#include <numeric>

namespace agentd::tools::schema {

namespace {

constexpr std::size_t max_listed_properties = 20;

std::string allowed_hint(const Node& n) {
    if (n.properties.empty()) {
        return {};
    }
    std::string out = " (allowed: ";
    for (std::size_t i = 0; i < n.properties.size() && i < max_listed_properties; ++i) {
        out += (i == 0 ? "" : ", ") + n.properties[i].first;
    }
    if (n.properties.size() > max_listed_properties) {
        out += ", …";
    }
    return out + ")";
}

std::string plural(std::size_t n, const char* noun) {
    return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

} // namespace

bool Evaluator::check_array(const Node& n, const nlohmann::json& v, Annotations* ann) {
    const auto& items = v.get_ref<const nlohmann::json::array_t&>();
    const std::size_t size = items.size();
    bool ok = true;
    if (n.min_items && size < *n.min_items) {
        error(n, "minItems",
              "must have at least " + plural(*n.min_items, "item") + ", not " +
                  std::to_string(size));
        ok = false;
    }
    if (n.max_items && size > *n.max_items) {
        error(n, "maxItems",
              "must have at most " + plural(*n.max_items, "item") + ", not " +
                  std::to_string(size));
        ok = false;
    }
    if (!ok && stop()) {
        return false;
    }
    const std::size_t prefix = std::min(size, n.prefix_items.size());
    for (std::size_t i = 0; i < prefix; ++i) {
        const PathGuard at(path_, i);
        ok = eval(n.prefix_items[i], items[i], nullptr) && ok;
        if (!ok && stop()) {
            return false;
        }
    }
    if (ann != nullptr) {
        ann->prefix_items = std::max(ann->prefix_items, prefix);
    }
    if (n.items != no_node) {
        const Node& rest = schema_.nodes[static_cast<std::size_t>(n.items)];
        if (rest.is_bool && !rest.bool_value && size > n.prefix_items.size()) {
            error(n, "items",
                  "must have at most " + plural(n.prefix_items.size(), "item") + ", not " +
                      std::to_string(size));
            ok = false;
        } else {
            for (std::size_t i = n.prefix_items.size(); i < size; ++i) {
                const PathGuard at(path_, i);
                ok = eval(n.items, items[i], nullptr) && ok;
                if (!ok && stop()) {
                    return false;
                }
            }
        }
        if (ann != nullptr) {
            ann->all_items = true;
        }
    }
    if (!ok && stop()) {
        return false;
    }
    ok = check_contains(n, v, ann) && ok;
    if (!ok && stop()) {
        return false;
    }
    ok = check_unique(n, v) && ok;
    if (n.unevaluated_items == no_node || (!ok && stop())) {
        return ok;
    }
    for (std::size_t i = 0; i < size; ++i) {
        if (ann->item_evaluated(i)) {
            continue;
        }
        const PathGuard at(path_, i);
        const Node& u = schema_.nodes[static_cast<std::size_t>(n.unevaluated_items)];
        if (u.is_bool && !u.bool_value) {
            error(n, "unevaluatedItems", "unexpected item (unevaluatedItems is false)");
            ok = false;
        } else {
            ok = eval(n.unevaluated_items, items[i], nullptr) && ok;
        }
        if (!ok && stop()) {
            return false;
        }
    }
    ann->all_items = true;
    return ok;
}

bool Evaluator::check_contains(const Node& n, const nlohmann::json& v, Annotations* ann) {
    if (n.contains == no_node) {
        return true;
    }
    const auto& items = v.get_ref<const nlohmann::json::array_t&>();
    const std::size_t min = n.min_contains.value_or(1);
    std::size_t count = 0;
    for (std::size_t i = 0; i < items.size(); ++i) {
        const PathGuard at(path_, i);
        if (probe(n.contains, items[i], nullptr, nullptr)) {
            ++count;
            if (ann != nullptr) {
                ann->mark_item(i);
            } else if (!n.max_contains && count >= min) {
                break;
            }
        }
        if (aborted_) {
            return false;
        }
    }
    if (count < min) {
        error(n, "contains",
              "must contain at least " + plural(min, "item") +
                  " matching \"contains\", but contains " + std::to_string(count));
        return false;
    }
    if (n.max_contains && count > *n.max_contains) {
        error(n, "maxContains",
              "must contain at most " + plural(*n.max_contains, "item") +
                  " matching \"contains\", but contains " + std::to_string(count));
        return false;
    }
    return true;
}

bool Evaluator::check_unique(const Node& n, const nlohmann::json& v) {
    if (!n.unique_items) {
        return true;
    }
    const auto& items = v.get_ref<const nlohmann::json::array_t&>();
    std::vector<std::size_t> order(items.size());
    std::iota(order.begin(), order.end(), 0);
    // Sort by the canonical order (stable: equal items keep index order), then compare
    // neighbours: O(n log n) comparisons instead of n².
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return json_compare(items[a], items[b]) < 0;
    });
    for (std::size_t k = 1; k < order.size(); ++k) {
        if (json_equal(items[order[k - 1]], items[order[k]])) {
            error(n, "uniqueItems",
                  "items at index " + std::to_string(order[k - 1]) + " and " +
                      std::to_string(order[k]) + " are equal; items must be unique");
            return false;
        }
    }
    return true;
}

bool Evaluator::check_object(const Node& n, const nlohmann::json& v, Annotations* ann) {
    const std::size_t size = v.size();
    bool ok = check_properties(n, v, ann);
    if (!ok && stop()) {
        return false;
    }
    ok = check_property_names(n, v) && ok;
    if (!ok && stop()) {
        return false;
    }
    ok = check_required(n, v) && ok;
    if (n.min_properties && size < *n.min_properties) {
        error(n, "minProperties",
              "must have at least " + plural(*n.min_properties, "property") + ", not " +
                  std::to_string(size));
        ok = false;
    }
    if (n.max_properties && size > *n.max_properties) {
        error(n, "maxProperties",
              "must have at most " + plural(*n.max_properties, "property") + ", not " +
                  std::to_string(size));
        ok = false;
    }
    if (!ok && stop()) {
        return false;
    }
    for (const auto& [name, child] : n.dependent_schemas) {
        if (v.contains(name)) {
            ok = eval(child, v, ann) && ok;
            if (!ok && stop()) {
                return false;
            }
        }
    }
    if (n.unevaluated_properties == no_node) {
        return ok;
    }
    return check_unevaluated_properties(n, v, ann) && ok;
}

bool Evaluator::check_properties(const Node& n, const nlohmann::json& v, Annotations* ann) {
    if (n.properties.empty() && n.pattern_properties.empty() &&
        n.additional_properties == no_node) {
        return true;
    }
    bool ok = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
        const std::string& key = it.key();
        bool matched = false;
        const auto prop = std::lower_bound(n.properties.begin(), n.properties.end(), key,
                                           [](const std::pair<std::string, NodeId>& p,
                                              const std::string& k) { return p.first < k; });
        const PathGuard at(path_, key);
        if (prop != n.properties.end() && prop->first == key) {
            matched = true;
            ok = eval(prop->second, *it, nullptr) && ok;
        }
        for (const auto& [regex, child] : n.pattern_properties) {
            if (regex_matches(*regex, key, n, "patternProperties")) {
                matched = true;
                ok = eval(child, *it, nullptr) && ok;
            }
            if (aborted_ || (!ok && stop())) {
                return false;
            }
        }
        if (!matched && n.additional_properties != no_node) {
            const Node& extra = schema_.nodes[static_cast<std::size_t>(n.additional_properties)];
            if (extra.is_bool && !extra.bool_value) {
                error(n, "additionalProperties",
                      "unexpected property \"" + key + "\"" + allowed_hint(n));
                ok = false;
            } else {
                ok = eval(n.additional_properties, *it, nullptr) && ok;
            }
            matched = true;
        }
        if (matched && ann != nullptr) {
            ann->properties.insert(key);
        }
        if (!ok && stop()) {
            return false;
        }
    }
    return ok;
}

bool Evaluator::check_property_names(const Node& n, const nlohmann::json& v) {
    if (n.property_names == no_node) {
        return true;
    }
    bool ok = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
        const nlohmann::json name = it.key();
        if (probe(n.property_names, name, nullptr, nullptr)) {
            continue;
        }
        if (aborted_) {
            return false;
        }
        ok = false;
        if (collecting()) {
            std::string why;
            (void)probe(n.property_names, name, nullptr, &why);
            error(n, "propertyNames", "property name \"" + it.key() + "\" is invalid: " + why);
        }
        if (stop()) {
            return false;
        }
    }
    return ok;
}

bool Evaluator::check_required(const Node& n, const nlohmann::json& v) {
    bool ok = true;
    for (const auto& name : n.required) {
        if (!v.contains(name)) {
            error(n, "required", "missing required property \"" + name + "\"");
            ok = false;
            if (stop()) {
                return false;
            }
        }
    }
    for (const auto& [name, needed] : n.dependent_required) {
        if (!v.contains(name)) {
            continue;
        }
        for (const auto& other : needed) {
            if (!v.contains(other)) {
                error(n, "dependentRequired",
                      "property \"" + other + "\" is required when \"" + name + "\" is present");
                ok = false;
                if (stop()) {
                    return false;
                }
            }
        }
    }
    return ok;
}

bool Evaluator::check_unevaluated_properties(const Node& n, const nlohmann::json& v,
                                             Annotations* ann) {
    bool ok = true;
    const Node& u = schema_.nodes[static_cast<std::size_t>(n.unevaluated_properties)];
    for (auto it = v.begin(); it != v.end(); ++it) {
        if (ann->properties.count(it.key()) != 0) {
            continue;
        }
        const PathGuard at(path_, it.key());
        if (u.is_bool && !u.bool_value) {
            error(n, "unevaluatedProperties",
                  "unexpected property \"" + it.key() + "\" (unevaluatedProperties is false)");
            ok = false;
        } else {
            ok = eval(n.unevaluated_properties, *it, nullptr) && ok;
        }
        if (!ok && stop()) {
            return false;
        }
    }
    for (auto it = v.begin(); it != v.end(); ++it) {
        ann->properties.insert(it.key());
    }
    return ok;
}

} // namespace agentd::tools::schema
