// Provider: tracepoint:CATEGORY:NAME and rawtracepoint:NAME.
#include "attach.h"

#include "tracefs.h"

#include <bpf/libbpf.h>

#include <cerrno>

#include <fmt/format.h>

namespace hvt {

bool attach_tracepoint(const ProbeDesc &probe, const bpf_program *prog,
                       const AttachOptions &, Attachments &out,
                       AttachError &err) {
  size_t colon = probe.target.find(':');
  if (colon == std::string::npos) {
    err.reason = fmt::format("invalid tracepoint '{}': expected CATEGORY:NAME",
                             probe.target);
    return false;
  }
  std::string category = probe.target.substr(0, colon);
  std::string name = probe.target.substr(colon + 1);
  tracefs::root(); // mounts tracefs if nobody did
  bpf_link *link =
      bpf_program__attach_tracepoint(prog, category.c_str(), name.c_str());
  if (link) {
    out.add(link);
    return true;
  }
  int e = errno;
  tracefs::Missing missing = tracefs::explain_missing(category, name);
  if (missing.reason.empty()) {
    explain_errno(e, fmt::format("tracepoint '{}:{}'", category, name), err);
    return false;
  }
  err.reason = missing.reason;
  err.hints = missing.hints;
  err.not_found = true;
  return false;
}

bool attach_raw_tracepoint(const ProbeDesc &probe, const bpf_program *prog,
                           const AttachOptions &, Attachments &out,
                           AttachError &err) {
  bpf_link *link =
      bpf_program__attach_raw_tracepoint(prog, probe.target.c_str());
  if (link) {
    out.add(link);
    return true;
  }
  int e = errno;
  if (e == ENOENT) {
    err.reason = fmt::format(
        "raw tracepoint '{}' does not exist on this kernel", probe.target);
    err.not_found = true;
    err.hints.push_back("raw tracepoints are named like tracepoints, without "
                        "the category (rawtracepoint:sched_switch)");
  } else {
    explain_errno(e, fmt::format("raw tracepoint '{}'", probe.target), err);
  }
  return false;
}

} // namespace hvt
