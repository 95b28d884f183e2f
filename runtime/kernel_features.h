// hvt --info: what the running kernel lets hvt do, each feature detected by
// trying it (loading a tiny program, opening an event), not by version.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace hvt {

struct Feature {
  std::string name; // "kprobes"
  bool available = false;
  std::string detail; // why not, or where ("/sys/kernel/tracing")
};

std::vector<Feature> detect_features();

// Whether tracepoint programs can read their link's attach cookie
// (bpf_get_attach_cookie(), Linux 5.15): a tiny program that calls it is
// loaded once per process.
bool kernel_has_attach_cookies();

// The --info report: kernel release, then one line per feature.
void print_features(std::ostream &out);

} // namespace hvt
