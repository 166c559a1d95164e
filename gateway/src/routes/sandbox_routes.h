#pragma once
/// The "sandbox" route module:
///   - starts the sandbox when `sandbox.enabled` is set or an agent uses run_python (before the
///     model is loaded, so the zygote forks small), shares a builtin::SandboxRunner with later
///     modules, and adds the shared tools run_python and run_bash (sandbox.tools);
///   - POST /v1/sandbox/run (scope "sandbox"): body {lang, code, stdin?, timeout_ms?, memory_mb?,
///     session?} → 200 with the `agentd sandbox run` result object, whatever the program did;
///     400 invalid_json / invalid_request naming the field, 415 for a non-JSON body, 409
///     workspace_limit when no more session workspaces fit, 503 busy (Retry-After) when the run
///     queue is full, 503 sandbox_disabled when the sandbox is not running. Sessions are
///     workspaces private to the caller's tenant. A client that goes away kills its run.
///
/// Ownership: the App keeps the runner. Threads: registration on the main thread; the handler
/// never blocks an I/O thread. Errors: start-up throws std::runtime_error when the sandbox is
/// required but cannot start.

namespace agentd::gateway::app {
class AppContext;
}

namespace agentd::gateway::routes {

void register_sandbox_module(app::AppContext& context);

} // namespace agentd::gateway::routes
