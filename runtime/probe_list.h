// hvt -l [PATTERN]: the probes this kernel (or a binary) offers, one per
// line, like bpftrace -l. -lv adds each tracepoint's fields and each fentry
// function's parameters.
#pragma once

#include <ostream>
#include <string>

namespace hvt {

// Lists the probes matching `pattern` (a shell glob over the whole probe
// name, e.g. "tracepoint:sched:*" or "*sleep*"; empty lists everything).
// A pattern naming a provider ("t:...", "kprobe:vfs_*") lists only that
// provider; uprobe patterns need a binary ("uprobe:/bin/bash:read*").
// Returns the number of probes printed.
size_t list_probes(const std::string &pattern, bool verbose, std::ostream &out);

} // namespace hvt
