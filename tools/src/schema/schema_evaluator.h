#pragma once
// Evaluates a CompiledSchema against an instance. One Evaluator per validate() call; it is not
// shared between threads.

#include "agentd/tools/json_schema.h"

#include "schema/json_util.h"
#include "schema/schema_node.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace agentd::tools::schema {

/// What in-place subschemas evaluated at one instance location (for unevaluated*).
struct Annotations {
    bool all_items = false;
    std::size_t prefix_items = 0;    ///< items [0, prefix_items) evaluated
    std::vector<std::uint8_t> items; ///< other evaluated indexes (contains), by index
    std::unordered_set<std::string> properties;

    void merge(const Annotations& other);
    [[nodiscard]] bool item_evaluated(std::size_t i) const {
        return all_items || i < prefix_items || (i < items.size() && items[i] != 0);
    }
    void mark_item(std::size_t i);
};

/// Appends a token to an instance path for the guard's lifetime.
class PathGuard {
public:
    PathGuard(std::string& path, std::string_view token) : path_(path), size_(path.size()) {
        pointer_append(path_, token);
    }
    PathGuard(std::string& path, std::size_t index) : path_(path), size_(path.size()) {
        pointer_append(path_, index);
    }
    ~PathGuard() { path_.resize(size_); }
    PathGuard(const PathGuard&) = delete;
    PathGuard& operator=(const PathGuard&) = delete;

private:
    std::string& path_;
    std::size_t size_;
};

/// Turns error collection off for the guard's lifetime (boolean sub-evaluations).
class Silence {
public:
    explicit Silence(std::vector<SchemaError>*& errors) : errors_(errors), saved_(errors) {
        errors = nullptr;
    }
    ~Silence() { errors_ = saved_; }
    Silence(const Silence&) = delete;
    Silence& operator=(const Silence&) = delete;

private:
    std::vector<SchemaError>*& errors_;
    std::vector<SchemaError>* saved_;
};

class Evaluator {
public:
    /// `errors` null: boolean mode, stops at the first failure.
    Evaluator(const CompiledSchema& schema, std::vector<SchemaError>* errors)
        : schema_(schema), errors_(errors) {}

    /// Validates the whole instance (checks its depth first).
    [[nodiscard]] bool run(const nlohmann::json& instance);

private:
    bool eval(NodeId id, const nlohmann::json& v, Annotations* ann);
    bool eval_node(const Node& n, const nlohmann::json& v, Annotations* ann);
    bool check_type_and_values(const Node& n, const nlohmann::json& v);
    bool check_number(const Node& n, const nlohmann::json& v);
    bool check_string(const Node& n, const nlohmann::json& v);
    bool check_in_place(const Node& n, const nlohmann::json& v, Annotations* ann);
    bool check_any_of(const Node& n, const nlohmann::json& v, Annotations* ann);
    bool check_one_of(const Node& n, const nlohmann::json& v, Annotations* ann);
    bool check_conditional(const Node& n, const nlohmann::json& v, Annotations* ann);
    bool check_array(const Node& n, const nlohmann::json& v, Annotations* ann);
    bool check_contains(const Node& n, const nlohmann::json& v, Annotations* ann);
    bool check_unique(const Node& n, const nlohmann::json& v);
    bool check_object(const Node& n, const nlohmann::json& v, Annotations* ann);
    bool check_properties(const Node& n, const nlohmann::json& v, Annotations* ann);
    bool check_property_names(const Node& n, const nlohmann::json& v);
    bool check_required(const Node& n, const nlohmann::json& v);
    bool check_unevaluated_properties(const Node& n, const nlohmann::json& v, Annotations* ann);

    /// Silently evaluates `id` and, when it fails and errors are being collected, returns a
    /// short description of why ("/x: must be string, not integer; ...").
    bool probe(NodeId id, const nlohmann::json& v, Annotations* ann, std::string* why);
    /// Regex search that turns limit/encoding failures into an abort of the whole validation.
    bool regex_matches(const Regex& r, std::string_view subject, const Node& n,
                       std::string_view keyword);

    void error(const Node& n, std::string_view keyword, std::string message);
    void abort(const Node& n, std::string message);
    [[nodiscard]] bool collecting() const {
        return errors_ != nullptr && errors_->size() < schema_.limits.max_errors;
    }
    /// After a failed check: keep going only when collecting errors.
    [[nodiscard]] bool stop() const { return aborted_ || !collecting(); }

    const CompiledSchema& schema_;
    std::vector<SchemaError>* errors_;
    std::string path_; ///< instance location being evaluated (JSON pointer)
    std::size_t steps_ = 0;
    std::size_t max_steps_ = 0;
    std::size_t depth_ = 0;
    bool aborted_ = false;
    SchemaError abort_error_;
};

} // namespace agentd::tools::schema
