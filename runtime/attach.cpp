// The provider table, and what the providers share: links, CPU lists,
// BEGIN/END runs and errno explanations.
#include "attach.h"

#include "detach.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace hvt {

void Attachments::adopt(Attachments &other) {
  links_.insert(links_.end(), other.links_.begin(), other.links_.end());
  other.links_.clear();
  perf_links_.insert(perf_links_.end(), other.perf_links_.begin(),
                     other.perf_links_.end());
  other.perf_links_.clear();
}

void Attachments::detach() {
  size_t libbpf_links = links_.size();
  run_concurrently(size(), [&](size_t i) {
    if (i < libbpf_links)
      bpf_link__destroy(links_[i]);
    else
      close(perf_links_[i - libbpf_links].link_fd);
  });
  std::vector<int> perf_fds;
  for (const PerfLink &link : perf_links_)
    perf_fds.push_back(link.perf_fd);
  links_.clear();
  perf_links_.clear();
  release_perf_events(perf_fds);
}

int open_perf_event(perf_event_attr &attr, int pid, int cpu) {
  attr.size = sizeof(attr);
  return static_cast<int>(
      syscall(__NR_perf_event_open, &attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC));
}

bool attach_to_perf_event(const bpf_program *prog, int perf_fd,
                          Attachments &out, uint64_t cookie) {
  bpf_link_create_opts opts{};
  opts.sz = sizeof(opts);
  opts.perf_event.bpf_cookie = cookie;
  int link_fd =
      bpf_link_create(bpf_program__fd(prog), perf_fd, BPF_PERF_EVENT, &opts);
  if (link_fd >= 0) {
    if (ioctl(perf_fd, PERF_EVENT_IOC_ENABLE, 0) == 0) {
      out.add_perf_link(link_fd, perf_fd);
      return true;
    }
    int e = errno;
    close(link_fd);
    close(perf_fd);
    errno = e;
    return false;
  }
  // No perf links before Linux 5.15: libbpf attaches with ioctls, and the
  // program stays attached until the perf event is released.
  bpf_perf_event_opts libbpf_opts{};
  libbpf_opts.sz = sizeof(libbpf_opts);
  libbpf_opts.bpf_cookie = cookie;
  bpf_link *link =
      bpf_program__attach_perf_event_opts(prog, perf_fd, &libbpf_opts);
  if (!link) {
    int e = errno;
    close(perf_fd);
    errno = e;
    return false;
  }
  out.add(link);
  return true;
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
    out.not_found = true;
    break;
  case EMFILE:
    out.reason = fmt::format("{}: {}", what, std::strerror(err));
    out.hints.push_back("each attach point holds two open files: raise the "
                        "limit (ulimit -n) or attach to fewer points");
    break;
  default:
    out.reason = fmt::format("{}: {}", what, std::strerror(err));
  }
}

namespace {

using AttachFn = bool (*)(const ProbeDesc &, const bpf_program *,
                          const AttachOptions &, Attachments &, AttachError &);

bool attach_special(const ProbeDesc &probe, const bpf_program *,
                    const AttachOptions &, Attachments &, AttachError &err) {
  // Only BEGIN and END get here: the runtime runs them instead.
  err.reason = fmt::format("'{}' is run, not attached", probe.display);
  return false;
}

AttachFn provider(ProbeKind kind) {
  switch (kind) {
  case ProbeKind::Tracepoint:
    return attach_tracepoint;
  case ProbeKind::RawTracepoint:
    return attach_raw_tracepoint;
  case ProbeKind::Kprobe:
  case ProbeKind::Kretprobe:
    return attach_kprobe;
  case ProbeKind::Fentry:
  case ProbeKind::Fexit:
    return attach_fentry;
  case ProbeKind::Uprobe:
  case ProbeKind::Uretprobe:
    return attach_uprobe;
  case ProbeKind::Interval:
  case ProbeKind::Profile:
  case ProbeKind::Software:
  case ProbeKind::Hardware:
    return attach_perf_event;
  case ProbeKind::Begin:
  case ProbeKind::End:
    break;
  }
  return attach_special;
}

} // namespace

bool attach_probe(const ProbeDesc &probe, const bpf_program *prog,
                  const AttachOptions &options, Attachments &out,
                  AttachError &err) {
  return provider(probe.kind)(probe, prog, options, out, err);
}

} // namespace hvt
