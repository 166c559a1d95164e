#pragma once
/// Row-level helpers shared by the TaskStore's source files. Run inside a store call (reader
/// lease or writer job), on that connection's thread.

#include "agentd/memory/task_store.h"

#include "db/writer.h"
#include "sqlite/connection.h"

#include <string_view>

namespace agentd::memory::store::tasks {

[[nodiscard]] base::Result<void> check_ref(const Limits& l, std::string_view tenant,
                                           std::string_view id);
/// SELECT list for read_task().
inline constexpr const char* kTaskColumns =
    "tenant_id, id, context_id, session_id, agent, state, status_message, metadata, created_at, "
    "updated_at";
[[nodiscard]] Task read_task(const sqlite::Statement& s);
/// Loads the history/artifacts `detail` asks for into `task`.
[[nodiscard]] base::Result<void> load_detail(sqlite::Connection& c, Task& task,
                                             const TaskGet& detail);
[[nodiscard]] base::Result<Task> load_task(sqlite::Connection& c, std::string_view tenant,
                                           std::string_view id, const TaskGet& detail);
/// Appends to the history and touches the task; not_found when the task does not exist.
[[nodiscard]] base::Result<std::int64_t> insert_history(db::WriteContext& ctx,
                                                        std::string_view tenant,
                                                        std::string_view id,
                                                        std::string_view message_json);

} // namespace agentd::memory::store::tasks
