// Provider: uprobe/uretprobe on a binary's function (perf uprobe PMU).
#include "attach.h"

#include "binaries.h"

#include "elf_reader.h"

#include <bpf/libbpf.h>
#include <linux/perf_event.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>

#include <fmt/format.h>

namespace hvt {

namespace {

// The uprobe PMU's perf event type and the config bit that makes a probe a
// uretprobe, from sysfs.
bool read_uprobe_pmu_files(int &type, int &retprobe_bit) {
  const char *base = "/sys/bus/event_source/devices/uprobe/";
  FILE *file = fopen((std::string(base) + "type").c_str(), "re");
  if (!file)
    return false;
  bool ok = fscanf(file, "%d", &type) == 1;
  fclose(file);
  file = fopen((std::string(base) + "format/retprobe").c_str(), "re");
  if (!file)
    return false;
  ok = fscanf(file, "config:%d", &retprobe_bit) == 1 && ok;
  fclose(file);
  return ok && retprobe_bit >= 0 && retprobe_bit < 64;
}

// Read once: a wildcard attaches hundreds of uprobes.
bool read_uprobe_pmu(int &type, int &retprobe_bit) {
  static int cached_type = -1, cached_bit = -1;
  static const bool found = read_uprobe_pmu_files(cached_type, cached_bit);
  type = cached_type;
  retprobe_bit = cached_bit;
  return found;
}

} // namespace

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
  bool retprobe = probe.kind == ProbeKind::Uretprobe;
  int e = 0;
  int pmu_type = -1, retprobe_bit = -1;
  if (read_uprobe_pmu(pmu_type, retprobe_bit)) {
    // The perf event opened here, not by libbpf, which would close it with
    // the link: detaching keeps it, to release it in the background.
    uint64_t offset = probe.offset;
    if (!probe.function.empty()) {
      std::string error;
      if (options.last_binary_path != probe.target || !options.last_binary) {
        auto elf = ElfReader::open(probe.target, error);
        options.last_binary =
            elf ? std::make_shared<const ElfReader>(std::move(*elf)) : nullptr;
        options.last_binary_path = probe.target;
      }
      auto start =
          options.last_binary
              ? options.last_binary->function_offset(probe.function, error)
              : std::nullopt;
      if (!start && !error.empty()) {
        err.reason = fmt::format("cannot attach to '{}' in '{}': {}",
                                 probe.function, probe.target, error);
        return false;
      }
      if (start)
        offset += *start;
      else
        e = ENOENT;
    }
    if (!e) {
      perf_event_attr attr{};
      attr.type = static_cast<uint32_t>(pmu_type);
      attr.config = retprobe ? uint64_t{1} << retprobe_bit : 0;
      attr.config1 = reinterpret_cast<uintptr_t>(probe.target.c_str());
      attr.config2 = offset;
      // As libbpf does: every process on CPU 0's event (the program runs on
      // every CPU), or one process on every CPU.
      int pid = options.pid > 0 ? options.pid : -1;
      int perf_fd = open_perf_event(attr, pid, pid == -1 ? 0 : -1);
      if (perf_fd >= 0 && attach_to_perf_event(prog, perf_fd, out))
        return true;
      e = errno;
    }
  } else {
    // No uprobe PMU (before Linux 4.17): libbpf's tracefs uprobe events.
    bpf_uprobe_opts opts{};
    opts.sz = sizeof(opts);
    opts.retprobe = retprobe;
    opts.func_name = probe.function.empty() ? nullptr : probe.function.c_str();
    bpf_link *link = bpf_program__attach_uprobe_opts(
        prog, options.pid, probe.target.c_str(), probe.offset, &opts);
    if (link) {
      out.add(link);
      return true;
    }
    e = errno;
  }
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
