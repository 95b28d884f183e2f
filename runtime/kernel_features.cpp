#include "kernel_features.h"

#include "attach.h"
#include "kernel_functions.h"
#include "tracefs.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/perf_event.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

namespace hvt {

namespace {

bool exists(const std::string &path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

std::string errno_text(int e) { return std::strerror(e < 0 ? -e : e); }

// r0 = 0; exit
const bpf_insn kReturnZero[] = {
    {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},
    {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
};

int load_program(bpf_prog_type type, const bpf_prog_load_opts *opts) {
  return bpf_prog_load(type, "hvt_feature", "GPL", kReturnZero, 2, opts);
}

Feature try_fentry() {
  Feature f{"fentry/fexit", false, ""};
  btf *vmlinux = btf__load_vmlinux_btf();
  if (!vmlinux) {
    f.detail = "no kernel BTF";
    return f;
  }
  int id = btf__find_by_name_kind(vmlinux, "vfs_read", BTF_KIND_FUNC);
  btf__free(vmlinux);
  if (id < 0) {
    f.detail = "vfs_read has no BTF";
    return f;
  }
  bpf_prog_load_opts opts{};
  opts.sz = sizeof(opts);
  opts.expected_attach_type = BPF_TRACE_FENTRY;
  opts.attach_btf_id = static_cast<uint32_t>(id);
  int fd = load_program(BPF_PROG_TYPE_TRACING, &opts);
  if (fd < 0) {
    f.detail = "loading a fentry program: " + errno_text(errno);
    return f;
  }
  int link = bpf_link_create(fd, 0, BPF_TRACE_FENTRY, nullptr);
  if (link < 0) {
    f.detail = "attaching a fentry program: " + errno_text(errno);
  } else {
    f.available = true;
    close(link);
  }
  close(fd);
  return f;
}

Feature try_kprobes() {
  Feature f{"kprobes", false, ""};
  std::ifstream type_file("/sys/bus/event_source/devices/kprobe/type");
  int type = -1;
  if (!(type_file >> type)) {
    f.detail = kernel::has_kprobes()
                   ? "only through tracefs kprobe_events"
                   : "the kernel was built without CONFIG_KPROBES";
    f.available = kernel::has_kprobes();
    return f;
  }
  perf_event_attr attr{};
  attr.type = static_cast<uint32_t>(type);
  attr.config1 = reinterpret_cast<uint64_t>("vfs_read");
  int fd = open_perf_event(attr, -1, 0);
  if (fd < 0) {
    f.detail = "opening a kprobe on vfs_read: " + errno_text(errno);
    return f;
  }
  close(fd);
  f.available = true;
  return f;
}

Feature try_perf_event(const char *name, uint32_t type, uint64_t config) {
  Feature f{name, false, ""};
  perf_event_attr attr{};
  attr.type = type;
  attr.config = config;
  attr.sample_period = 1000000;
  int fd = open_perf_event(attr, -1, online_cpus().front());
  if (fd < 0) {
    f.detail = errno_text(errno);
    return f;
  }
  close(fd);
  f.available = true;
  return f;
}

Feature try_test_run() {
  Feature f{"BEGIN/END (BPF_PROG_TEST_RUN)", false, ""};
  int fd = load_program(BPF_PROG_TYPE_RAW_TRACEPOINT, nullptr);
  if (fd < 0) {
    f.detail = "loading a raw_tp program: " + errno_text(errno);
    return f;
  }
  int err = run_begin_end(fd);
  close(fd);
  f.available = err == 0;
  if (err)
    f.detail = errno_text(err);
  return f;
}

// bpf_get_attach_cookie(); r0 = 0; exit
const bpf_insn kReadAttachCookie[] = {
    {BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_attach_cookie},
    {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},
    {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
};

Feature probe_support(const char *name, bool ok, const std::string &why) {
  return {name, ok, ok ? "" : why};
}

} // namespace

std::vector<Feature> detect_features() {
  std::vector<Feature> features;
  features.push_back(
      probe_support("BTF", exists("/sys/kernel/btf/vmlinux"),
                    "no /sys/kernel/btf/vmlinux (CONFIG_DEBUG_INFO_BTF)"));
  int ringbuf = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, nullptr);
  features.push_back(
      probe_support("ring buffer", ringbuf == 1,
                    ringbuf < 0 ? errno_text(ringbuf) : "not supported"));
  features.push_back(try_test_run());
  const std::string &root = tracefs::root();
  Feature tracepoints{"tracepoints", !root.empty(),
                      root.empty() ? "tracefs is not mounted" : root};
  features.push_back(tracepoints);
  features.push_back(try_kprobes());
  features.push_back(try_fentry());
  features.push_back(
      probe_support("uprobes", exists("/sys/bus/event_source/devices/uprobe"),
                    "no uprobe PMU (CONFIG_UPROBE_EVENTS)"));
  features.push_back(probe_support("attach cookies",
                                   kernel_has_attach_cookies(),
                                   "no bpf_get_attach_cookie() (Linux 5.15)"));
  features.push_back(try_perf_event(
      "perf events (software)", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK));
  Feature hardware = try_perf_event("hardware counters", PERF_TYPE_HARDWARE,
                                    PERF_COUNT_HW_CPU_CYCLES);
  if (!hardware.available)
    hardware.detail = "no PMU: " + hardware.detail;
  features.push_back(hardware);
  std::string source;
  size_t count = kernel::traceable_functions(&source).size();
  features.push_back({"traceable functions", count > 0,
                      fmt::format("{} from {}", count, source)});
  return features;
}

bool kernel_has_attach_cookies() {
  static const bool available = [] {
    int fd = bpf_prog_load(BPF_PROG_TYPE_TRACEPOINT, "hvt_feature", "GPL",
                           kReadAttachCookie, 3, nullptr);
    if (fd < 0)
      return false;
    close(fd);
    return true;
  }();
  return available;
}

void print_features(std::ostream &out) {
  utsname uts{};
  uname(&uts);
  out << "Kernel: " << uts.release << " " << uts.version << " (" << uts.machine
      << ")\n\nFeatures:\n";
  for (const auto &f : detect_features())
    out << fmt::format("  {:<31} {}{}\n", f.name + ":",
                       f.available ? "yes" : "no",
                       f.detail.empty() ? "" : " (" + f.detail + ")");
}

} // namespace hvt
