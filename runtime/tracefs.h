// Where the kernel's tracing filesystem lives, and what its events are.
// Used by the compiler (tracepoint formats, wildcard expansion) and by the
// runtime (attaching, listing, explaining a missing tracepoint).
#pragma once

#include <string>
#include <vector>

namespace hvt::tracefs {

// The tracefs root ("/sys/kernel/tracing" or the debugfs path). If neither is
// mounted and we are allowed to, mounts tracefs at /sys/kernel/tracing, as
// bpftrace users expect a tracer to "just work" as root. Returns "" when
// tracefs cannot be found or mounted.
const std::string &root();

// Path of events/CATEGORY/NAME/format, or "" when tracefs is unavailable.
std::string format_path(const std::string &category, const std::string &name);

// Tracepoint categories (events/*), sorted.
std::vector<std::string> categories();

// Tracepoints of one category (events/CATEGORY/*), sorted.
std::vector<std::string> events(const std::string &category);

// Why CATEGORY:NAME cannot be used, in the user's terms, with hints (a Xen
// or KVM explanation, or a close name); an empty reason when it exists.
struct Missing {
  std::string reason;
  std::vector<std::string> hints;
};
Missing explain_missing(const std::string &category, const std::string &name);

} // namespace hvt::tracefs
