// Provider: uprobe/uretprobe on a binary's function (perf uprobe PMU).
#include "attach.h"

#include "binaries.h"

#include <bpf/libbpf.h>
#include <sys/stat.h>

#include <cerrno>

#include <fmt/format.h>

namespace hvt {

bool attach_uprobe(const ProbeDesc &probe, const bpf_program *prog,
                   const AttachOptions &options, Attachments &out,
                   AttachError &err) {
  struct stat st;
  if (stat(probe.target.c_str(), &st) != 0) {
    err.not_found = true;
    err.reason = probe.target.find('/') == std::string::npos
                     ? fmt::format("no program or library named '{}' was "
                                   "found",
                                   probe.target)
                     : fmt::format("binary '{}' does not exist", probe.target);
    if (probe.target.find('/') == std::string::npos)
      err.hints.push_back("give the binary's path, or a library name that "
                          "ldconfig -p lists");
    return false;
  }
  // Checked before libbpf opens it: opening a FIFO would block forever.
  if (!binaries::is_elf(probe.target)) {
    err.reason = fmt::format("'{}' is not an ELF binary", probe.target);
    return false;
  }
  bpf_uprobe_opts opts{};
  opts.sz = sizeof(opts);
  opts.retprobe = probe.kind == ProbeKind::Uretprobe;
  opts.func_name = probe.function.empty() ? nullptr : probe.function.c_str();
  bpf_link *link = bpf_program__attach_uprobe_opts(
      prog, options.pid, probe.target.c_str(), probe.offset, &opts);
  if (link) {
    out.add(link);
    return true;
  }
  int e = errno;
  if (e == ENOENT && !probe.function.empty()) {
    err.not_found = true;
    err.reason = fmt::format("function '{}' was not found in '{}'",
                             probe.function, probe.target);
    err.hints.push_back(fmt::format(
        "list the binary's functions with hvt -l 'uprobe:{}:*'", probe.target));
  } else if (e == ESRCH && options.pid > 0) {
    err.reason = fmt::format("process {} does not exist", options.pid);
  } else {
    explain_errno(e, fmt::format("uprobe on '{}'", probe.target), err);
  }
  return false;
}

} // namespace hvt
