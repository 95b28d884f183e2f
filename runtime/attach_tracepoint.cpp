// Provider: tracepoint:CATEGORY:NAME and rawtracepoint:NAME.
#include "attach.h"

#include "objects_ahead.h"

#include "tracefs.h"

#include <bpf/libbpf.h>

#include <linux/perf_event.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

namespace hvt {

namespace {

// The tracepoint's perf event id, from tracefs.
bool read_event_id(const std::string &category, const std::string &name,
                   __u64 &id) {
  std::string path = tracefs::format_path(category, name);
  if (path.empty())
    return false;
  path.replace(path.size() - strlen("format"), std::string::npos, "id");
  FILE *file = fopen(path.c_str(), "re");
  if (!file)
    return false;
  unsigned long long value = 0;
  bool ok = fscanf(file, "%llu", &value) == 1;
  fclose(file);
  id = value;
  return ok;
}

} // namespace

int open_tracepoint_event(const std::string &target) {
  size_t colon = target.find(':');
  if (colon == std::string::npos) {
    errno = EINVAL;
    return -1;
  }
  tracefs::root(); // mounts tracefs if nobody did
  // Opened here rather than by libbpf, which would close the perf event with
  // the link: detaching keeps it, to release it in the background.
  perf_event_attr attr{};
  attr.type = PERF_TYPE_TRACEPOINT;
  attr.sample_period = 1;
  attr.wakeup_events = 1;
  if (!read_event_id(target.substr(0, colon), target.substr(colon + 1),
                     attr.config)) {
    errno = ENOENT;
    return -1;
  }
  // As libbpf does: CPU 0, any process; the program runs on every CPU.
  return open_perf_event(attr, -1, 0);
}

bool attach_tracepoint(const ProbeDesc &probe, const bpf_program *prog,
                       const AttachOptions &options, Attachments &out,
                       AttachError &err) {
  size_t colon = probe.target.find(':');
  if (colon == std::string::npos) {
    err.reason = fmt::format("invalid tracepoint '{}': expected CATEGORY:NAME",
                             probe.target);
    return false;
  }
  std::string category = probe.target.substr(0, colon);
  std::string name = probe.target.substr(colon + 1);
  int perf_fd =
      options.ahead ? options.ahead->take_perf_event(probe.target) : -1;
  if (perf_fd < 0)
    perf_fd = open_tracepoint_event(probe.target);
  if (perf_fd >= 0 &&
      attach_to_perf_event(prog, perf_fd, out, probe.attach_cookie))
    return true;
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
