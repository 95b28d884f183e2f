// Where the kernel's tracing filesystem lives. Used by the compiler (to read
// tracepoint format files) and by the runtime (to list and attach events).
#pragma once

#include <string>

namespace hvt::tracefs {

// The tracefs root ("/sys/kernel/tracing" or the debugfs path). If neither is
// mounted and we are allowed to, mounts tracefs at /sys/kernel/tracing, as
// bpftrace users expect a tracer to "just work" as root. Returns "" when
// tracefs cannot be found or mounted.
const std::string &root();

// Path of events/CATEGORY/NAME/format, or "" when tracefs is unavailable.
std::string format_path(const std::string &category, const std::string &name);

} // namespace hvt::tracefs
