#pragma once
// The monitor's event loop for one run: pumps stdin, captures stdout/stderr up to their caps,
// answers the sandbox's status messages (id maps, verification before exec), enforces the wall
// clock by killing the run's PID namespace, and notices cancellation (agentd closing its end
// of the reply socket). Single-threaded; runs in the monitor process.

#include "agentd/sandbox/layer.h"
#include "agentd/sandbox/limits.h"

#include "detail/unique_fd.h"
#include "detail/verify.h"

#include <cstdint>
#include <functional>
#include <string>
#include <sys/types.h>

namespace agentd::sandbox::detail {

struct Capture {
    std::string data;
    std::uint64_t total = 0;
    bool eof = false;
};

struct SupervisorIo {
    UniqueFd status;  ///< status socket (monitor end)
    UniqueFd stdin_w; ///< program's stdin (write end), closed when the input is exhausted
    UniqueFd stdout_r;
    UniqueFd stderr_r;
    int stdin_src = -1; ///< descriptor to pump into stdin (borrowed), or -1
    const std::string* stdin_data = nullptr;
    int cancel_fd = -1;  ///< reply socket: readable/hung up means agentd gave up
    UniqueFd init_pidfd; ///< process whose exit ends the run (init, or the warm run's parent)
};

struct SupervisorOutcome {
    bool have_status = false;
    int wait_status = 0;
    std::uint64_t cpu_us = 0;
    std::uint64_t setup_cpu_us = 0; ///< CPU the program's process used before the program ran
    std::uint64_t maxrss_kb = 0;
    bool timed_out = false;
    bool cancelled = false;
    bool refused = false;  ///< a required layer could not be verified; the program never ran
    bool verified = false; ///< the program reached the ready point and was verified
    LayerSet layers;
    std::string setup_error; ///< "E" message from the sandbox
    Capture out;
    Capture err;
    std::uint64_t start_ms = 0;
    std::uint64_t end_ms = 0;
};

struct SupervisorHooks {
    /// "U": write the id maps of the init process; return false to abort the run.
    std::function<bool()> write_id_maps;
    /// Expectations for verify_process() at "R".
    VerifyExpect expect;
    LayerSet required;
};

/// Runs the loop until the run is over. `deadline_ms` is on the now_ms() clock.
void supervise(SupervisorIo& io, const SupervisorHooks& hooks, std::uint64_t deadline_ms,
               std::uint64_t output_cap, SupervisorOutcome& out);

} // namespace agentd::sandbox::detail
