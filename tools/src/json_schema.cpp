#include "agentd/tools/json_schema.h"

#include "schema/schema_compiler.h"
#include "schema/schema_evaluator.h"

#include <nlohmann/json.hpp>

#include <utility>

namespace agentd::tools {

struct JsonSchema::Impl {
    nlohmann::json document;
    std::unique_ptr<schema::CompiledSchema> compiled;
};

JsonSchema::JsonSchema(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JsonSchema::~JsonSchema() = default;

base::Result<std::shared_ptr<const JsonSchema>> JsonSchema::compile(const nlohmann::json& schema,
                                                                    const SchemaOptions& options) {
    auto compiled = schema::compile_schema(schema, options);
    if (!compiled) {
        return compiled.error();
    }
    auto impl = std::make_unique<Impl>();
    impl->document = schema;
    impl->compiled = std::move(*compiled);
    return std::shared_ptr<const JsonSchema>(new JsonSchema(std::move(impl)));
}

std::vector<SchemaError> JsonSchema::validate(const nlohmann::json& instance) const {
    std::vector<SchemaError> errors;
    schema::Evaluator evaluator(*impl_->compiled, &errors);
    (void)evaluator.run(instance);
    return errors;
}

bool JsonSchema::accepts(const nlohmann::json& instance) const {
    schema::Evaluator evaluator(*impl_->compiled, nullptr);
    return evaluator.run(instance);
}

const nlohmann::json& JsonSchema::document() const {
    return impl_->document;
}

std::string describe_schema_errors(std::span<const SchemaError> errors, std::size_t max) {
    std::string out;
    for (std::size_t i = 0; i < errors.size() && i < max; ++i) {
        const auto& e = errors[i];
        out += (i == 0 ? "" : "; ") +
               (e.instance_path.empty() ? std::string("(root)") : e.instance_path) + ": " +
               e.message;
    }
    if (errors.size() > max) {
        out += "; and " + std::to_string(errors.size() - max) + " more";
    }
    return out;
}

} // namespace agentd::tools
