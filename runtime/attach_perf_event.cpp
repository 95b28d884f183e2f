// Provider: perf events. interval (one CPU), profile, software and
// hardware (every online CPU).
#include "attach.h"

#include <bpf/libbpf.h>
#include <linux/perf_event.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

namespace hvt {

namespace {

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

std::string read_first_line(const std::string &path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

void explain_perf_error(int e, const ProbeDesc &probe, AttachError &err) {
  switch (e) {
  case EMFILE:
    explain_errno(e, "cannot open the perf event", err);
    break;
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
bool attach_on_cpus(const ProbeDesc &probe, const bpf_program *prog,
                    perf_event_attr attr, const std::vector<int> &cpus,
                    Attachments &out, AttachError &err) {
  Attachments attached; // released on failure: all CPUs or none
  for (int cpu : cpus) {
    int fd = open_perf_event(attr, -1, cpu);
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

bool attach_timer(const ProbeDesc &probe, const bpf_program *prog,
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
    err.reason =
        fmt::format("{} has neither a period nor a frequency", probe.display);
    return false;
  }
  // An interval fires once per period in total, so on one CPU only; a
  // profile samples every CPU.
  std::vector<int> cpus = probe.kind == ProbeKind::Interval
                              ? std::vector<int>{online_cpus().front()}
                              : online_cpus();
  return attach_on_cpus(probe, prog, attr, cpus, out, err);
}

template <size_t N>
bool attach_counter(const ProbeDesc &probe, const bpf_program *prog,
                    Attachments &out, AttachError &err, uint32_t type,
                    const PerfEventName (&table)[N], const char *kind) {
  const PerfEventName *event = find_event(table, probe.target);
  if (!event) {
    err.reason = fmt::format("unknown {} event '{}'", kind, probe.target);
    err.not_found = true;
    std::string guess = closest_match(probe.target, event_names(table));
    if (!guess.empty())
      err.hints.push_back(fmt::format("did you mean '{}'?", guess));
    return false;
  }
  perf_event_attr attr{};
  attr.type = type;
  attr.config = event->config;
  attr.sample_period = probe.period ? probe.period : event->default_period;
  return attach_on_cpus(probe, prog, attr, online_cpus(), out, err);
}

} // namespace

std::vector<std::string> software_event_names() {
  std::vector<std::string> names;
  for (const auto &event : software_events)
    names.push_back(event.name);
  return names;
}

std::vector<std::string> hardware_event_names() {
  std::vector<std::string> names;
  for (const auto &event : hardware_events)
    names.push_back(event.name);
  return names;
}

bool attach_perf_event(const ProbeDesc &probe, const bpf_program *prog,
                       const AttachOptions &, Attachments &out,
                       AttachError &err) {
  switch (probe.kind) {
  case ProbeKind::Interval:
  case ProbeKind::Profile:
    return attach_timer(probe, prog, out, err);
  case ProbeKind::Software:
    return attach_counter(probe, prog, out, err, PERF_TYPE_SOFTWARE,
                          software_events, "software");
  case ProbeKind::Hardware:
    return attach_counter(probe, prog, out, err, PERF_TYPE_HARDWARE,
                          hardware_events, "hardware");
  default:
    err.reason = fmt::format("'{}' is not a perf event probe", probe.display);
    return false;
  }
}

} // namespace hvt
