#pragma once
// Turns a schema document into a CompiledSchema, checking that it is well formed.

#include "agentd/base/result.h"
#include "agentd/tools/json_schema.h"

#include "schema/schema_node.h"

#include <memory>

namespace agentd::tools::schema {

/// Compiles `document`; errc::invalid_schema lists the problems found (each with its pointer).
[[nodiscard]] base::Result<std::unique_ptr<CompiledSchema>>
compile_schema(const nlohmann::json& document, const SchemaOptions& options);

} // namespace agentd::tools::schema
