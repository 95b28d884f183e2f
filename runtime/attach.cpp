#include "attach.h"

#include "tracefs.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <linux/perf_event.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace hvt {

void Attachments::detach() {
  for (bpf_link *link : links_)
    bpf_link__destroy(link);
  links_.clear();
}

std::vector<int> parse_cpu_list(const std::string &text) {
  std::vector<int> cpus;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, ',')) {
    int first = 0, last = 0;
    int n = sscanf(part.c_str(), "%d-%d", &first, &last);
    if (n == 1)
      last = first;
    else if (n != 2)
      continue;
    for (int cpu = first; cpu <= last; ++cpu)
      cpus.push_back(cpu);
  }
  return cpus;
}

std::vector<int> online_cpus() {
  std::ifstream in("/sys/devices/system/cpu/online");
  std::string text;
  std::getline(in, text);
  std::vector<int> cpus = parse_cpu_list(text);
  if (cpus.empty())
    cpus.push_back(0);
  return cpus;
}

int run_begin_end(int prog_fd) {
  // A raw_tp program's context is its tracepoint arguments; BEGIN/END read
  // none of them.
  uint8_t ctx[64] = {};
  bpf_test_run_opts opts{};
  opts.sz = sizeof(opts);
  opts.ctx_in = ctx;
  opts.ctx_size_in = sizeof(ctx);
  int err = bpf_prog_test_run_opts(prog_fd, &opts);
  return err < 0 ? err : 0;
}

namespace {

bool exists(const std::string &path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

std::vector<std::string> subdirectories(const std::string &path) {
  std::vector<std::string> names;
  DIR *dir = opendir(path.c_str());
  if (!dir)
    return names;
  while (dirent *entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (name != "." && name != ".." && entry->d_type == DT_DIR)
      names.push_back(name);
  }
  closedir(dir);
  return names;
}

std::string read_first_line(const std::string &path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// Reasons shared by every kind, for errors without a better explanation.
void explain_errno(int err, const std::string &what, AttachError &out) {
  switch (err) {
  case EPERM:
  case EACCES:
    out.reason = fmt::format("permission denied ({})", what);
    out.hints.push_back("run as root (tracing needs CAP_BPF, CAP_PERFMON and "
                        "CAP_SYS_ADMIN)");
    break;
  case ENOENT:
    out.reason = fmt::format("{} was not found", what);
    break;
  default:
    out.reason = fmt::format("{}: {}", what, std::strerror(err));
  }
}

// --- tracepoint -----------------------------------------------------------

void explain_tracepoint(const std::string &category, const std::string &name,
                        int err, AttachError &out) {
  const std::string &root = tracefs::root();
  if (root.empty()) {
    out.reason = "the kernel's tracing filesystem (tracefs) is not available";
    out.hints.push_back("mount it: mount -t tracefs nodev /sys/kernel/tracing");
    return;
  }
  std::string events = root + "/events";
  if (!exists(events + "/" + category)) {
    out.reason = fmt::format(
        "tracepoint category '{}' does not exist on this kernel", category);
    if (category == "xen") {
      out.hints.push_back("this kernel is not a Xen guest");
      return;
    }
    std::string guess = closest_match(category, subdirectories(events));
    if (!guess.empty())
      out.hints.push_back(
          fmt::format("did you mean 'tracepoint:{}:{}'?", guess, name));
    return;
  }
  if (!exists(events + "/" + category + "/" + name)) {
    out.reason = fmt::format("tracepoint '{}:{}' does not exist on this kernel",
                             category, name);
    std::string guess =
        closest_match(name, subdirectories(events + "/" + category));
    if (!guess.empty())
      out.hints.push_back(
          fmt::format("did you mean 'tracepoint:{}:{}'?", category, guess));
    return;
  }
  explain_errno(err, fmt::format("tracepoint '{}:{}'", category, name), out);
}

bool attach_tracepoint(const ProbeDesc &probe, const bpf_program *prog,
                       Attachments &out, AttachError &err) {
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
  if (!link) {
    explain_tracepoint(category, name, errno, err);
    return false;
  }
  out.add(link);
  return true;
}

bool attach_raw_tracepoint(const ProbeDesc &probe, const bpf_program *prog,
                           Attachments &out, AttachError &err) {
  bpf_link *link =
      bpf_program__attach_raw_tracepoint(prog, probe.target.c_str());
  if (!link) {
    int e = errno;
    if (e == ENOENT)
      err.reason = fmt::format(
          "raw tracepoint '{}' does not exist on this kernel", probe.target);
    else
      explain_errno(e, fmt::format("raw tracepoint '{}'", probe.target), err);
    return false;
  }
  out.add(link);
  return true;
}

// --- kprobe / uprobe ------------------------------------------------------

bool kernel_has_kprobes() {
  if (exists("/sys/bus/event_source/devices/kprobe"))
    return true;
  const std::string &root = tracefs::root();
  return !root.empty() && exists(root + "/kprobe_events");
}

bool attach_kprobe(const ProbeDesc &probe, const bpf_program *prog,
                   Attachments &out, AttachError &err) {
  bpf_kprobe_opts opts{};
  opts.sz = sizeof(opts);
  opts.offset = probe.offset;
  opts.retprobe = probe.kind == ProbeKind::Kretprobe;
  bpf_link *link =
      bpf_program__attach_kprobe_opts(prog, probe.target.c_str(), &opts);
  if (link) {
    out.add(link);
    return true;
  }
  int e = errno;
  if (!kernel_has_kprobes()) {
    err.reason = "this kernel has no kprobe support";
    err.hints.push_back("it was built without CONFIG_KPROBES / "
                        "CONFIG_KPROBE_EVENTS; use a tracepoint instead (see "
                        "available_events in tracefs)");
  } else if (e == ENOENT || e == EINVAL) {
    err.reason =
        fmt::format("kernel function '{}' does not exist or cannot be traced",
                    probe.target);
    err.hints.push_back("traceable functions are listed in "
                        "available_filter_functions in tracefs; the function "
                        "may be inlined or marked notrace");
  } else {
    explain_errno(e, fmt::format("kprobe on '{}'", probe.target), err);
  }
  return false;
}

bool attach_uprobe(const ProbeDesc &probe, const bpf_program *prog,
                   Attachments &out, AttachError &err) {
  bpf_uprobe_opts opts{};
  opts.sz = sizeof(opts);
  opts.retprobe = probe.kind == ProbeKind::Uretprobe;
  opts.func_name = probe.function.empty() ? nullptr : probe.function.c_str();
  bpf_link *link = bpf_program__attach_uprobe_opts(
      prog, -1, probe.target.c_str(), probe.offset, &opts);
  if (link) {
    out.add(link);
    return true;
  }
  int e = errno;
  if (probe.target.find('/') != std::string::npos && !exists(probe.target)) {
    err.reason = fmt::format("binary '{}' does not exist", probe.target);
  } else if (e == ENOENT && !probe.function.empty()) {
    err.reason = fmt::format("function '{}' was not found in '{}'",
                             probe.function, probe.target);
    err.hints.push_back(fmt::format(
        "list the binary's symbols with `nm {0}` (`nm -D {0}` if it is "
        "stripped)",
        probe.target));
  } else {
    explain_errno(e, fmt::format("uprobe on '{}'", probe.target), err);
  }
  return false;
}

// fentry/fexit: the target function was resolved (through BTF) when the
// program was loaded from its "fentry/FUNC" section.
bool attach_trace(const ProbeDesc &probe, const bpf_program *prog,
                  Attachments &out, AttachError &err) {
  bpf_link *link = bpf_program__attach_trace(prog);
  if (!link) {
    explain_errno(errno, fmt::format("function '{}'", probe.target), err);
    return false;
  }
  out.add(link);
  return true;
}

// --- perf events ----------------------------------------------------------

struct PerfEventName {
  const char *name;
  const char *alias;
  uint64_t config;
  uint64_t default_period; // bpftrace's default when the script gives none
};

const PerfEventName software_events[] = {
    {"cpu-clock", "cpu", PERF_COUNT_SW_CPU_CLOCK, 1000000},
    {"task-clock", nullptr, PERF_COUNT_SW_TASK_CLOCK, 1000000},
    {"page-faults", "faults", PERF_COUNT_SW_PAGE_FAULTS, 100},
    {"context-switches", "cs", PERF_COUNT_SW_CONTEXT_SWITCHES, 1000},
    {"cpu-migrations", nullptr, PERF_COUNT_SW_CPU_MIGRATIONS, 1},
    {"minor-faults", nullptr, PERF_COUNT_SW_PAGE_FAULTS_MIN, 100},
    {"major-faults", nullptr, PERF_COUNT_SW_PAGE_FAULTS_MAJ, 1},
    {"alignment-faults", nullptr, PERF_COUNT_SW_ALIGNMENT_FAULTS, 1},
    {"emulation-faults", nullptr, PERF_COUNT_SW_EMULATION_FAULTS, 1},
    {"dummy", nullptr, PERF_COUNT_SW_DUMMY, 1},
    {"bpf-output", nullptr, PERF_COUNT_SW_BPF_OUTPUT, 1},
};

const PerfEventName hardware_events[] = {
    {"cpu-cycles", "cycles", PERF_COUNT_HW_CPU_CYCLES, 1000000},
    {"instructions", nullptr, PERF_COUNT_HW_INSTRUCTIONS, 1000000},
    {"cache-references", nullptr, PERF_COUNT_HW_CACHE_REFERENCES, 1000000},
    {"cache-misses", nullptr, PERF_COUNT_HW_CACHE_MISSES, 1000000},
    {"branch-instructions", "branches", PERF_COUNT_HW_BRANCH_INSTRUCTIONS,
     100000},
    {"branch-misses", nullptr, PERF_COUNT_HW_BRANCH_MISSES, 100000},
    {"bus-cycles", nullptr, PERF_COUNT_HW_BUS_CYCLES, 100000},
    {"frontend-stalls", nullptr, PERF_COUNT_HW_STALLED_CYCLES_FRONTEND,
     1000000},
    {"backend-stalls", nullptr, PERF_COUNT_HW_STALLED_CYCLES_BACKEND, 1000000},
    {"ref-cycles", nullptr, PERF_COUNT_HW_REF_CPU_CYCLES, 1000000},
};

template <size_t N>
const PerfEventName *find_event(const PerfEventName (&table)[N],
                                const std::string &name) {
  for (const auto &event : table)
    if (name == event.name || (event.alias && name == event.alias))
      return &event;
  return nullptr;
}

template <size_t N>
std::vector<std::string> event_names(const PerfEventName (&table)[N]) {
  std::vector<std::string> names;
  for (const auto &event : table) {
    names.push_back(event.name);
    if (event.alias)
      names.push_back(event.alias);
  }
  return names;
}

void explain_perf_error(int e, const ProbeDesc &probe, AttachError &err) {
  switch (e) {
  case EACCES:
  case EPERM: {
    err.reason = "permission denied opening the perf event";
    std::string paranoid =
        read_first_line("/proc/sys/kernel/perf_event_paranoid");
    err.hints.push_back(
        fmt::format("run as root (kernel.perf_event_paranoid is {})",
                    paranoid.empty() ? "unknown" : paranoid));
    break;
  }
  case ENOENT:
  case ENODEV:
  case EOPNOTSUPP:
    if (probe.kind == ProbeKind::Hardware) {
      err.reason = "hardware performance counters are not available on this "
                   "machine";
      err.hints.push_back("virtual machines often expose no PMU; use "
                          "software:cpu-clock or profile instead");
    } else {
      err.reason = fmt::format("the kernel does not support the perf event "
                               "'{}'",
                               probe.target);
    }
    break;
  default:
    err.reason =
        fmt::format("cannot open the perf event: {}", std::strerror(e));
  }
}

// Opens one perf event per CPU in `cpus` and attaches `prog` to each.
bool attach_perf_events(const ProbeDesc &probe, const bpf_program *prog,
                        perf_event_attr attr, const std::vector<int> &cpus,
                        Attachments &out, AttachError &err) {
  attr.size = sizeof(attr);
  Attachments attached;
  for (int cpu : cpus) {
    int fd = static_cast<int>(syscall(__NR_perf_event_open, &attr, -1, cpu, -1,
                                      PERF_FLAG_FD_CLOEXEC));
    if (fd < 0) {
      explain_perf_error(errno, probe, err);
      return false;
    }
    bpf_link *link = bpf_program__attach_perf_event(prog, fd);
    if (!link) {
      int e = errno;
      close(fd);
      explain_errno(e, "attaching to the perf event", err);
      return false;
    }
    attached.add(link); // the link owns (and closes) the perf fd
  }
  out.adopt(attached);
  return true;
}

bool attach_interval(const ProbeDesc &probe, const bpf_program *prog,
                     Attachments &out, AttachError &err) {
  if (!probe.period) {
    err.reason = "interval probe has a period of 0";
    return false;
  }
  perf_event_attr attr{};
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_CPU_CLOCK;
  attr.sample_period = probe.period;
  // An interval fires once per period in total, so on one CPU only.
  return attach_perf_events(probe, prog, attr, {0}, out, err);
}

bool attach_profile(const ProbeDesc &probe, const bpf_program *prog,
                    Attachments &out, AttachError &err) {
  perf_event_attr attr{};
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_CPU_CLOCK;
  if (probe.frequency) {
    attr.freq = 1;
    attr.sample_freq = probe.frequency;
  } else if (probe.period) {
    attr.sample_period = probe.period;
  } else {
    err.reason = "profile probe has neither a period nor a frequency";
    return false;
  }
  return attach_perf_events(probe, prog, attr, online_cpus(), out, err);
}

template <size_t N>
bool attach_counter(const ProbeDesc &probe, const bpf_program *prog,
                    Attachments &out, AttachError &err, uint32_t type,
                    const PerfEventName (&table)[N], const char *kind) {
  const PerfEventName *event = find_event(table, probe.target);
  if (!event) {
    err.reason = fmt::format("unknown {} event '{}'", kind, probe.target);
    std::string guess = closest_match(probe.target, event_names(table));
    if (!guess.empty())
      err.hints.push_back(fmt::format("did you mean '{}'?", guess));
    return false;
  }
  perf_event_attr attr{};
  attr.type = type;
  attr.config = event->config;
  attr.sample_period = probe.period ? probe.period : event->default_period;
  return attach_perf_events(probe, prog, attr, online_cpus(), out, err);
}

bool attach_software(const ProbeDesc &probe, const bpf_program *prog,
                     Attachments &out, AttachError &err) {
  return attach_counter(probe, prog, out, err, PERF_TYPE_SOFTWARE,
                        software_events, "software");
}

bool attach_hardware(const ProbeDesc &probe, const bpf_program *prog,
                     Attachments &out, AttachError &err) {
  return attach_counter(probe, prog, out, err, PERF_TYPE_HARDWARE,
                        hardware_events, "hardware");
}

bool attach_special(const ProbeDesc &probe, const bpf_program *, Attachments &,
                    AttachError &err) {
  // Only BEGIN and END get here: the runtime runs them instead.
  err.reason = fmt::format("'{}' is run, not attached", probe.display);
  return false;
}

using AttachFn = bool (*)(const ProbeDesc &, const bpf_program *, Attachments &,
                          AttachError &);

AttachFn attach_function(ProbeKind kind) {
  switch (kind) {
  case ProbeKind::Tracepoint:
    return attach_tracepoint;
  case ProbeKind::RawTracepoint:
    return attach_raw_tracepoint;
  case ProbeKind::Kprobe:
  case ProbeKind::Kretprobe:
    return attach_kprobe;
  case ProbeKind::Uprobe:
  case ProbeKind::Uretprobe:
    return attach_uprobe;
  case ProbeKind::Interval:
    return attach_interval;
  case ProbeKind::Profile:
    return attach_profile;
  case ProbeKind::Software:
    return attach_software;
  case ProbeKind::Hardware:
    return attach_hardware;
  case ProbeKind::Fentry:
  case ProbeKind::Fexit:
    return attach_trace;
  case ProbeKind::Begin:
  case ProbeKind::End:
    break;
  }
  return attach_special;
}

} // namespace

bool attach_probe(const ProbeDesc &probe, const bpf_program *prog,
                  Attachments &out, AttachError &err) {
  return attach_function(probe.kind)(probe, prog, out, err);
}

} // namespace hvt
