#pragma once
/// Metadata as the filter sees it, and the compiled filter (language: memory_store.h).
///
/// FlatMeta flattens a JSON object into (dotted path, scalar) fields sorted by path; array
/// elements become repeated fields of the array's path; objects and arrays also leave a
/// `container` marker so $exists sees them. Both types are immutable after construction and
/// safe to read from many threads.

#include "agentd/base/result.h"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace agentd::memory::vector {

struct MetaValue {
    enum class Type : unsigned char { null, boolean, number, string, container };
    Type type = Type::null;
    double number = 0; // booleans: 0 or 1
    std::string text;
};

struct MetaField {
    std::string path;
    MetaValue value;
};

class FlatMeta {
public:
    FlatMeta() = default;
    /// Flattens `json` (an object; anything else flattens to nothing). Bounded: at most
    /// `max_fields` fields are kept (the rest cannot be filtered on). Invalid JSON → empty.
    static FlatMeta from_json(std::string_view json, std::size_t max_fields = 256);

    /// The fields at `path` (several for arrays), as [first, last).
    [[nodiscard]] std::pair<const MetaField*, const MetaField*> find(std::string_view path) const;
    [[nodiscard]] bool empty() const noexcept { return fields_.empty(); }

private:
    std::vector<MetaField> fields_;
    friend struct FlatMetaBuilder;
};

class MetadataFilter {
public:
    /// Parses and validates a filter; invalid_argument says what is wrong and where.
    /// An empty string compiles to "match everything".
    [[nodiscard]] static base::Result<MetadataFilter> compile(std::string_view json);

    [[nodiscard]] bool matches(const FlatMeta& meta) const;
    [[nodiscard]] bool matches_all() const noexcept { return nodes_.empty(); }

    struct Node {
        enum class Op : unsigned char {
            and_,
            or_,
            not_,
            eq,
            ne,
            gt,
            gte,
            lt,
            lte,
            in,
            nin,
            exists
        };
        Op op = Op::and_;
        std::string path;
        std::vector<MetaValue> values; // eq..lte: one; in/nin: many
        bool exists = true;
        std::vector<std::size_t> children; // indexes into nodes_
    };

private:
    [[nodiscard]] bool eval(std::size_t node, const FlatMeta& meta) const;
    std::vector<Node> nodes_; // nodes_[0] is the root when not empty
    friend class FilterParser;
};

} // namespace agentd::memory::vector
