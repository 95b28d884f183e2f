// Attaching one probe's BPF program: one provider per probe kind (each in
// its own attach_*.cpp file), and running BEGIN/END programs. Private to the
// runtime (tests use it too).
#pragma once

#include "program.h"

#include <memory>
#include <string>
#include <vector>

struct bpf_link;
struct bpf_program;
struct perf_event_attr;

namespace hvt {

// Why an attach failed, in words, with hints for the user. The runtime turns
// it into a diagnostic at the probe's source range.
struct AttachError {
  std::string reason; // "tracepoint 'xen:xen_mc_entry' does not exist"
  std::vector<std::string> hints;
  // The target itself does not exist (no such function, tracepoint or
  // binary): trying the kprobe <-> fentry fallback would not help.
  bool not_found = false;
};

// Everything attached so far. Destroying it (or calling detach()) destroys
// every link; perf event fds are owned by their links.
class Attachments {
public:
  Attachments() = default;
  Attachments(const Attachments &) = delete;
  Attachments &operator=(const Attachments &) = delete;
  ~Attachments() { detach(); }

  void add(bpf_link *link) { links_.push_back(link); }
  // A link made with BPF_LINK_CREATE to a perf event: both files are ours.
  // Closing the link detaches the program; the perf event is released
  // later, in the background (release_perf_events()).
  void add_perf_link(int link_fd, int perf_fd) {
    perf_links_.push_back({link_fd, perf_fd});
  }
  // Moves every link of `other` here.
  void adopt(Attachments &other);
  size_t size() const { return links_.size() + perf_links_.size(); }
  // Detaches every program, the links closed concurrently (detach.h), and
  // returns once none runs any more.
  void detach();

private:
  struct PerfLink {
    int link_fd;
    int perf_fd;
  };
  std::vector<bpf_link *> links_;
  std::vector<PerfLink> perf_links_;
};

// perf_event_open(2) for process `pid` (-1: every process) on `cpu` (-1:
// every CPU), close-on-exec; sets attr.size.
int open_perf_event(perf_event_attr &attr, int pid, int cpu);

// The perf event of tracepoint `target` ("category:name"), opened, on CPU
// 0 for every process, or -1 with errno set.
int open_tracepoint_event(const std::string &target);

// Attaches `prog` to the perf event `perf_fd` and enables it; `out` then
// owns the file. `cookie` is what bpf_get_attach_cookie() returns in the
// program (ProbeDesc::attach_cookie). On failure the file is closed and
// errno says why.
bool attach_to_perf_event(const bpf_program *prog, int perf_fd,
                          Attachments &out, uint64_t cookie = 0);

class ElfReader;
class KernelObjectsAhead;

struct AttachOptions {
  int pid = -1; // -p PID: uprobes attach to this process only
  // The binary a uprobe last looked its function up in: a wildcard's
  // matches come one after the other and share it. The session drops it
  // once attached.
  mutable std::string last_binary_path;
  mutable std::shared_ptr<const ElfReader> last_binary;
  // Perf events opened ahead (objects_ahead.h); null: each provider opens
  // its own.
  KernelObjectsAhead *ahead = nullptr;
};

// Attaches `prog` as `probe` describes, through the provider of its kind. On
// success the links are added to `out` and true is returned; on failure
// nothing stays attached for this probe and `err` says why. BEGIN/END are
// not attached (see run_begin_end()).
bool attach_probe(const ProbeDesc &probe, const bpf_program *prog,
                  const AttachOptions &options, Attachments &out,
                  AttachError &err);
inline bool attach_probe(const ProbeDesc &probe, const bpf_program *prog,
                         Attachments &out, AttachError &err) {
  return attach_probe(probe, prog, AttachOptions{}, out, err);
}

// Runs a BEGIN/END program (a BPF_PROG_TYPE_RAW_TRACEPOINT program) once,
// synchronously, with BPF_PROG_TEST_RUN and a zeroed 64-byte context.
// Returns 0 or a negative errno.
int run_begin_end(int prog_fd);

// CPUs listed in /sys/devices/system/cpu/online (e.g. "0-3,6"); {0} if the
// file cannot be read. Exposed for tests.
std::vector<int> online_cpus();

// Parses a kernel CPU list such as "0-3,6". Exposed for tests.
std::vector<int> parse_cpu_list(const std::string &text);

// The event names software:NAME and hardware:NAME accept (without their
// aliases), for -l.
std::vector<std::string> software_event_names();
std::vector<std::string> hardware_event_names();

// --- providers (attach_*.cpp) -----------------------------------------------

bool attach_tracepoint(const ProbeDesc &, const bpf_program *,
                       const AttachOptions &, Attachments &, AttachError &);
bool attach_raw_tracepoint(const ProbeDesc &, const bpf_program *,
                           const AttachOptions &, Attachments &, AttachError &);
bool attach_kprobe(const ProbeDesc &, const bpf_program *,
                   const AttachOptions &, Attachments &, AttachError &);
bool attach_fentry(const ProbeDesc &, const bpf_program *,
                   const AttachOptions &, Attachments &, AttachError &);
bool attach_uprobe(const ProbeDesc &, const bpf_program *,
                   const AttachOptions &, Attachments &, AttachError &);
bool attach_perf_event(const ProbeDesc &, const bpf_program *,
                       const AttachOptions &, Attachments &, AttachError &);

// Shared by the providers: a reason for an errno without a better
// explanation ("permission denied (...)", "... was not found").
void explain_errno(int err, const std::string &what, AttachError &out);

// Why a kernel function probe cannot attach to `function` when the kernel
// refuses it (kprobe) or it cannot be loaded (fentry): not found, not
// traceable, no kprobes. Sets AttachError::not_found when it does not exist.
void explain_missing_kernel_function(const std::string &module,
                                     const std::string &function,
                                     AttachError &out);

} // namespace hvt
