#pragma once
/// Shapes validated OpenAI messages for a particular chat template, following what the template
/// can express (ChatTemplateCaps, docs/CHAT.md): tool-call arguments become objects for
/// templates that serialise them (`tojson`), a tool-call message's null content becomes "",
/// and system messages are folded into the next user turn for templates without a system role.
///
/// Thread affinity: none (pure function). Errors: none.

#include "agentd/inference/chat_template.h"
#include "agentd/inference/value.h"

namespace agentd::gateway::openai {

[[nodiscard]] inference::Value shape_messages(const inference::Value& messages,
                                              const inference::ChatTemplateCaps& caps);

} // namespace agentd::gateway::openai
