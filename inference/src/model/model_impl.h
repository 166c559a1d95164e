#pragma once
/// Model::Impl: what the engine needs from a loaded model (internal).

#include "agentd/inference/gguf.h"
#include "agentd/inference/model.h"
#include "agentd/inference/tokenizer.h"

#include "model/hparams.h"
#include "model/weights.h"

namespace agentd::inference {

struct Model::Impl {
    GgufFile file;
    Tokenizer tokenizer;
    model::HParams hp;
    model::WeightRefs refs;
    ModelInfo info;
};

} // namespace agentd::inference
