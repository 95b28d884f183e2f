// Running a compiled program: libbpf's open -> load -> attach -> poll ->
// destroy lifecycle, with one cleanup path (Session's destructor).
#include "runtime.h"
#include "timeline.h"

#include "attach.h"
#include "child.h"
#include "initial_entries.h"
#include "language_support.h"
#include "objects_ahead.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdarg>
#include <cstring>
#include <ctime>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <sstream>

#include <fmt/format.h>

namespace hvt {

namespace {

// --- signals --------------------------------------------------------------

// The handler only counts and writes to a pipe the event loop waits on, so
// a signal can never be missed between a check and the wait.
volatile sig_atomic_t signal_count = 0;
int signal_pipe_write = -1;
volatile pid_t child_to_stop = 0;

void on_stop_signal(int) {
  int saved = errno;
  signal_count = signal_count + 1; // (++ on a volatile is deprecated)
  if (signal_count >= 2) {
    // A second Ctrl-C: the user is done waiting (e.g. for a long map
    // print). The kernel releases every program and link with our fds.
    if (child_to_stop > 0)
      kill(child_to_stop, SIGTERM);
    _exit(1);
  }
  char c = 0;
  (void)!write(signal_pipe_write, &c, 1);
  errno = saved;
}

// Installs SIGINT/SIGTERM handlers (explicitly, because a shell starts
// background jobs with SIGINT ignored) and ignores SIGPIPE, so a closed
// output shows up as a write error, for its lifetime. No SA_RESTART.
class SignalGuard {
public:
  SignalGuard() {
    signal_count = 0;
    if (pipe2(pipe_, O_CLOEXEC | O_NONBLOCK) != 0)
      pipe_[0] = pipe_[1] = -1;
    signal_pipe_write = pipe_[1];
    struct sigaction action = {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &old_int_);
    sigaction(SIGTERM, &action, &old_term_);
    struct sigaction ignore = {};
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ignore, &old_pipe_);
  }
  ~SignalGuard() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
    sigaction(SIGPIPE, &old_pipe_, nullptr);
    signal_pipe_write = -1;
    child_to_stop = 0;
    for (int fd : pipe_)
      if (fd >= 0)
        close(fd);
  }
  SignalGuard(const SignalGuard &) = delete;
  SignalGuard &operator=(const SignalGuard &) = delete;

  int read_fd() const { return pipe_[0]; }

private:
  int pipe_[2] = {-1, -1};
  struct sigaction old_int_ = {}, old_term_ = {}, old_pipe_ = {};
};

bool stop_signalled() { return signal_count > 0; }

// --- libbpf log -----------------------------------------------------------

// libbpf's messages: kept (warnings and info) to explain load failures,
// and echoed to the user's error stream in verbose mode.
struct LibbpfLog {
  bool verbose = false;
  std::ostream *err = nullptr;
  std::string captured;
};

LibbpfLog *active_log = nullptr;

int libbpf_print(enum libbpf_print_level level, const char *format,
                 va_list args) {
  if (!active_log)
    return 0;
  va_list copy;
  va_copy(copy, args);
  int n = vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  if (n <= 0)
    return 0;
  std::string text(static_cast<size_t>(n) + 1, '\0');
  vsnprintf(text.data(), text.size(), format, args);
  text.resize(n);
  if (level != LIBBPF_DEBUG)
    active_log->captured += text;
  if (active_log->verbose && active_log->err)
    *active_log->err << text << std::flush;
  return n;
}

class LibbpfLogGuard {
public:
  explicit LibbpfLogGuard(LibbpfLog &log) {
    active_log = &log;
    previous_ = libbpf_set_print(libbpf_print);
  }
  ~LibbpfLogGuard() {
    libbpf_set_print(previous_);
    active_log = nullptr;
  }
  LibbpfLogGuard(const LibbpfLogGuard &) = delete;
  LibbpfLogGuard &operator=(const LibbpfLogGuard &) = delete;

private:
  libbpf_print_fn_t previous_ = nullptr;
};

std::vector<std::string> split_lines(const std::string &text) {
  std::vector<std::string> lines;
  std::stringstream in(text);
  std::string line;
  while (std::getline(in, line))
    lines.push_back(line);
  return lines;
}

bool starts_with(const std::string &s, const char *prefix) {
  return s.rfind(prefix, 0) == 0;
}

// The text between `prefix` and the next quote: "prog 'NAME': ..." -> NAME.
std::string quoted_after(const std::string &text, const std::string &prefix,
                         const std::string &suffix, std::string *rest) {
  size_t at = text.find(prefix);
  while (at != std::string::npos) {
    size_t begin = at + prefix.size();
    size_t end = text.find('\'', begin);
    if (end == std::string::npos)
      return "";
    if (text.compare(end + 1, suffix.size(), suffix) == 0) {
      if (rest) {
        size_t eol = text.find('\n', end);
        *rest = text.substr(end + 1 + suffix.size(),
                            eol == std::string::npos
                                ? std::string::npos
                                : eol - (end + 1 + suffix.size()));
      }
      return text.substr(begin, end - begin);
    }
    at = text.find(prefix, end);
  }
  return "";
}

std::string trim(std::string s) {
  size_t b = s.find_first_not_of(" \t\n");
  size_t e = s.find_last_not_of(" \t\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// strerror() that also knows libbpf's own error codes (4000 and up).
std::string error_text(int err) {
  char buf[256] = {};
  libbpf_strerror(err, buf, sizeof(buf)); // either sign
  return buf;
}

bool is_percpu(MapStorage storage) {
  return storage == MapStorage::PercpuHash ||
         storage == MapStorage::PercpuLruHash ||
         storage == MapStorage::PercpuArray;
}

bool is_array(MapStorage storage) {
  return storage == MapStorage::Array || storage == MapStorage::PercpuArray;
}

bool is_trampoline(ProbeKind kind) {
  return kind == ProbeKind::Fentry || kind == ProbeKind::Fexit;
}

const char *kind_name(ProbeKind kind) {
  switch (kind) {
  case ProbeKind::Kprobe:
    return "kprobe";
  case ProbeKind::Kretprobe:
    return "kretprobe";
  case ProbeKind::Fentry:
    return "fentry";
  case ProbeKind::Fexit:
    return "fexit";
  default:
    return "probe";
  }
}

// The verifier log libbpf printed for `prog` ("-- BEGIN PROG LOAD LOG --").
std::string logged_verifier_log(const std::string &log,
                                const std::string &prog) {
  std::string begin =
      fmt::format("prog '{}': -- BEGIN PROG LOAD LOG --\n", prog);
  size_t start = log.find(begin);
  if (start == std::string::npos)
    return "";
  start += begin.size();
  size_t end = log.find("-- END PROG LOAD LOG --", start);
  return log.substr(start, end == std::string::npos ? end : end - start);
}

// From this many tracepoints on, their perf events are opened on a thread of
// their own while the programs load. With fewer, starting that thread and
// the other CPU's kernel work slow the load more than the attach gains
// (measured, docs/performance.md: 2 tracepoints +5%, 10 +3%, 20 -5%, 40 and
// 100 -12% to "attached").
constexpr size_t kTracepointsOpenedAhead = 16;

// -d verifier: each program logs into its own buffer, even when it loads.
constexpr size_t kVerifierLogSize = 16 << 20;

// --- the running program --------------------------------------------------

class Session {
public:
  Session(const CompiledProgram &program, const RunOptions &options,
          Diagnostics &diags, LibbpfLog &log, const SignalGuard &signals)
      : program_(program), options_(options), diags_(diags), log_(log),
        signals_(signals), output_(make_output(options.format, *options.out)),
        programs_(program.probes.size()) {
    for (const auto &desc : program.printfs)
      printfs_.emplace_back(desc);
    attach_options_.pid = options.pid > 0 ? options.pid : -1;
  }

  // The one cleanup path: everything below is safe on a partial setup.
  ~Session() {
    if (language_started_) { // a failed run: no warnings, just let go
      std::ostringstream unused;
      finish_language_support(program_, object_, unused);
    }
    ring_buffer__free(ringbuf_);
    attachments_.detach();
    for (auto &p : programs_)
      bpf_object__close(p.own_object);
    bpf_object__close(object_);
    if (epoll_fd_ >= 0)
      close(epoll_fd_);
    if (target_pidfd_ >= 0)
      close(target_pidfd_);
  }

  Session(const Session &) = delete;
  Session &operator=(const Session &) = delete;

  int run() {
    raise_memlock_limit();
    // Maps and tracepoints' perf events: made by the caller while it
    // compiled, or, the events, here while the programs load when there are
    // many (objects_ahead.h).
    if (!options_.dry_run) {
      raise_file_limit();
      attach_options_.ahead =
          options_.objects_ahead ? options_.objects_ahead : &own_objects_ahead_;
      attach_options_.ahead->start(program_.probes, kTracepointsOpenedAhead);
    }
    if (!open())
      return 1;
    timeline_mark("opened");
    if (!find_programs_and_maps())
      return 1;
    adopt_maps_made_ahead();
    if (!load() || !open_ringbuf())
      return 1;
    timeline_mark("loaded");
    // --dry-run: the verifier accepted every program; attach nothing.
    if (options_.dry_run) {
      note_skipped_points();
      return load_on_demand_programs() ? 0 : 1;
    }
    // --- language hook: elapsed's start, stack maps (language_support.h)
    start_language_support(program_, object_);
    language_started_ = true;
    // --- end of language hook
    if (!watch_target_process())
      return 1;

    // BEGIN's constant map assignments, done here (initial_entries.h).
    if (std::string error; !write_initial_entries(program_, object_, error)) {
      diags_.error(SourceRange{}, error);
      return 1;
    }
    // BEGIN runs before any other probe can fire. Its output waits in the
    // ring buffer, so it still prints after the "Attaching" line, which comes
    // once the probes really are attached.
    if (!run_special(ProbeKind::Begin) || !attach_all())
      return 1;
    timeline_mark("attached");
    if (!options_.quiet) {
      output_->attached_probes(attached_count_);
      output_->flush();
    }
    if (options_.child && !start_child())
      return 1;
    // A BEGIN without a program: its records, where its ring buffer output
    // would have been read.
    for (const ProbeDesc *begin : constant_begins_)
      replay(begin->constant_records);
    end_batch();
    if (options_.on_attached)
      options_.on_attached();

    bool ok = event_loop();

    // Stop the probes, then let END run and the maps be printed.
    attachments_.detach();
    consume();
    ignore_events_ = false;
    in_end_ = true;
    ok = run_special(ProbeKind::End) && ok;
    consume();
    if (!output_broken_) {
      output_->end_of_run();
      print_all_maps();
      report_lost_events();
      output_->flush();
    }
    // --- language hook: warnings about full maps (language_support.h)
    finish_language_support(program_, object_, *options_.err);
    language_started_ = false;
    // --- end of language hook
    return ok ? 0 : 1;
  }

private:
  // One ProbeDesc's program: in the main object, or (fentry/fexit and
  // fallback twins) loaded on demand into an object of its own.
  struct Program {
    bpf_program *prog = nullptr;      // in the main object
    bpf_object *own_object = nullptr; // on demand: its own object
    bpf_program *loaded = nullptr;    // on demand: the program loaded there
    bool on_demand = false;
    bool load_tried = false;
    AttachError load_error;
    std::string log_buf; // -d verifier
  };

  // The outcome of one attach point (a ProbeDesc that is not a fallback).
  struct Outcome {
    bool attached = false;
    AttachError error;
  };

  static void raise_memlock_limit() {
    // Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK. Failing to
    // raise it is harmless on newer kernels, so it is not an error.
    rlimit unlimited = {RLIM_INFINITY, RLIM_INFINITY};
    setrlimit(RLIMIT_MEMLOCK, &unlimited);
  }

  // An attach point holds two files (its perf event and its link), a perf
  // event probe two per CPU: 512 tracepoints need more than the usual soft
  // limit of 1024. Raised only then, up to the hard limit.
  void raise_file_limit() const {
    rlim_t wanted = 64;
    size_t cpus = 0;
    for (const ProbeDesc &probe : program_.probes)
      wanted += probe.kind == ProbeKind::Profile ||
                        probe.kind == ProbeKind::Software ||
                        probe.kind == ProbeKind::Hardware
                    ? 2 * (cpus ? cpus : (cpus = online_cpus().size()))
                    : 2;
    rlimit files;
    if (getrlimit(RLIMIT_NOFILE, &files) != 0 || files.rlim_cur >= wanted ||
        files.rlim_cur == RLIM_INFINITY)
      return;
    files.rlim_cur = std::min(files.rlim_max, wanted * 2);
    setrlimit(RLIMIT_NOFILE, &files);
  }

  // --- setup ---------------------------------------------------------------

  bpf_object *open_object() {
    bpf_object_open_opts opts{};
    opts.sz = sizeof(opts);
    opts.object_name = "hvt";
    return bpf_object__open_mem(program_.elf.data(), program_.elf.size(),
                                &opts);
  }

  bool open() {
    object_ = open_object();
    if (!object_) {
      int err = errno;
      auto &d = diags_.error(
          SourceRange{},
          fmt::format("cannot open the BPF object: {}", error_text(err)));
      add_last_libbpf_line(d);
      return false;
    }
    return true;
  }

  void enable_verifier_log(bpf_program *prog, Program &p) {
    if (!options_.verifier_log)
      return;
    p.log_buf.assign(kVerifierLogSize, '\0');
    bpf_program__set_log_buf(prog, p.log_buf.data(), p.log_buf.size());
    // Level 1 keeps the path the verifier rejected (a program it accepts
    // logs its statistics only); level 2's every path of every program
    // overflows any buffer on big programs.
    bpf_program__set_log_level(prog, 1 | 4);
  }

  bool find_programs_and_maps() {
    bool ok = true;
    for (size_t i = 0; i < program_.probes.size(); ++i) {
      const ProbeDesc &probe = program_.probes[i];
      if (probe.program_name.empty())
        continue; // BEGIN/END without a program (constant records)
      bpf_program *prog =
          bpf_object__find_program_by_name(object_, probe.program_name.c_str());
      if (!prog) {
        diags_.error(probe.range,
                     fmt::format("internal error: the BPF object has no "
                                 "program '{}' for probe '{}'",
                                 probe.program_name, probe.display));
        ok = false;
        continue;
      }
      // Trampolines fail to load on some kernels, and fallback twins are
      // needed only when their primary fails: neither may stop the rest
      // from loading, so each loads on its own when needed.
      Program &p = programs_[i];
      p.on_demand = probe.fallback || is_trampoline(probe.kind);
      // Attach points that share a program (codegen) have its log once, in
      // the first one's buffer.
      bool shared = false;
      for (size_t j = 0; j < i && !shared; ++j)
        shared = programs_[j].prog == prog;
      if (p.on_demand)
        bpf_program__set_autoload(prog, false);
      else if (!shared)
        enable_verifier_log(prog, p);
      p.prog = prog;
    }
    for (const auto &map : program_.maps) {
      bpf_map *m = bpf_object__find_map_by_name(object_, map.elf_name.c_str());
      if (!m) {
        diags_.error(map.range,
                     fmt::format("internal error: the BPF object has no map "
                                 "'{}' for {}",
                                 map.elf_name, map.name));
        ok = false;
      }
      maps_.push_back(m);
    }
    ringbuf_map_ =
        bpf_object__find_map_by_name(object_, program_.ringbuf_name.c_str());
    // A data section's map: libbpf names it "hvt.bss" in the kernel (object
    // name + section) and finds it by the section's name.
    lost_map_ = bpf_object__find_map_by_name(object_,
                                             program_.lost_events_name.c_str());
    // The ring buffer size must be a power-of-two number of pages.
    uint32_t size = program_.ringbuf_size;
    long page = sysconf(_SC_PAGESIZE);
    if (ringbuf_map_ && size && (size & (size - 1)) == 0 && page > 0 &&
        size % page == 0)
      bpf_map__set_max_entries(ringbuf_map_, size);
    return ok;
  }

  // The maps the caller made ahead (objects_ahead.h), each adopted when it
  // is the map the object defines; otherwise libbpf creates its own at the
  // load, as without them.
  void adopt_maps_made_ahead() {
    if (!attach_options_.ahead)
      return;
    for (size_t i = 0; i < program_.maps.size(); ++i) {
      bpf_map *map = maps_[i];
      if (!map)
        continue;
      int fd = attach_options_.ahead->take_map(
          {program_.maps[i].name, bpf_map__name(map), bpf_map__type(map),
           bpf_map__key_size(map), bpf_map__value_size(map),
           bpf_map__max_entries(map), bpf_map__map_flags(map)});
      if (fd < 0)
        continue;
      bpf_map__reuse_fd(map, fd); // a duplicate of fd
      close(fd);
    }
  }

  bool load() {
    log_.captured.clear();
    int err = bpf_object__load(object_);
    dump_verifier_logs();
    if (err)
      report_load_error(err);
    for (auto &p : programs_)
      std::string().swap(p.log_buf);
    return err == 0;
  }

  void dump_verifier_logs() {
    if (!options_.verifier_log)
      return;
    for (size_t i = 0; i < programs_.size(); ++i) {
      Program &p = programs_[i];
      if (p.log_buf.empty() || !p.log_buf[0])
        continue;
      *options_.verifier_log << fmt::format(
          "--- verifier log of {} ({}) ---\n{}\n", program_.probes[i].display,
          program_.probes[i].program_name, p.log_buf.c_str());
    }
    options_.verifier_log->flush();
  }

  const ProbeDesc *probe_by_program(const std::string &name) const {
    for (const auto &probe : program_.probes)
      if (probe.program_name == name)
        return &probe;
    return nullptr;
  }

  size_t index_of(const ProbeDesc &probe) const {
    return static_cast<size_t>(&probe - program_.probes.data());
  }

  void add_last_libbpf_line(Diagnostic &d) const {
    auto lines = split_lines(log_.captured);
    for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
      std::string line = trim(*it);
      if (!line.empty()) {
        d.hint("libbpf: " + (starts_with(line, "libbpf: ")
                                 ? line.substr(strlen("libbpf: "))
                                 : line));
        return;
      }
    }
  }

  // The verifier's log of `probe`: from libbpf's message, or from the
  // program's own buffer with -d verifier (libbpf does not repeat it).
  std::string verifier_log_of(const ProbeDesc &probe) const {
    std::string log = logged_verifier_log(log_.captured, probe.program_name);
    if (log.empty()) {
      const Program &p = programs_[index_of(probe)];
      if (!p.log_buf.empty())
        log = p.log_buf.c_str();
    }
    return log;
  }

  // A verifier rejection as a diagnostic at the script location of the
  // rejected instruction, from BTF line info; the probe's range otherwise.
  void report_verifier_rejection(const ProbeDesc &probe,
                                 const std::string &log) {
    VerifierSummary summary = summarize_verifier_log(log);
    SourceRange range = probe.range;
    if (auto at = locate_instruction(program_.elf, probe.program_name,
                                     summary.instruction_index)) {
      range.begin = range.end = *at;
    } else if (summary.source_line) {
      range.begin = range.end = SourceLocation{summary.source_line, 1};
    }
    auto &d =
        diags_.error(range, fmt::format("BPF verifier rejected probe '{}': {}",
                                        probe.display, summary.error));
    if (range.begin.line != probe.range.begin.line ||
        range.begin.column != probe.range.begin.column)
      d.note(probe.range, "in probe '" + probe.display + "'");
    if (!summary.instruction.empty())
      d.hint("at instruction " + summary.instruction);
    d.hint(options_.verbose || options_.verifier_log
               ? "the full verifier log is printed above"
               : "run with -d verifier to see the full verifier log");
  }

  void report_load_error(int err) {
    const std::string &log = log_.captured;
    std::string reason;
    std::string prog =
        quoted_after(log, "prog '", ": BPF program load failed: ", &reason);
    if (!prog.empty()) {
      const ProbeDesc *probe = probe_by_program(prog);
      if (probe) {
        std::string verifier_log = verifier_log_of(*probe);
        if (!verifier_log.empty()) {
          report_verifier_rejection(*probe, verifier_log);
          return;
        }
      }
      SourceRange range = probe ? probe->range : SourceRange{};
      std::string name = probe ? probe->display : prog;
      auto &d = diags_.error(
          range, fmt::format("cannot load probe '{}': {}", name, trim(reason)));
      if (err == -EPERM || err == -EACCES)
        d.hint("run as root (loading BPF programs needs CAP_BPF and "
               "CAP_PERFMON)");
      return;
    }
    std::string map_reason;
    std::string map =
        quoted_after(log, "map '", ": failed to create", &map_reason);
    if (!map.empty()) {
      for (const auto &desc : program_.maps) {
        if (desc.elf_name != map)
          continue;
        diags_.error(desc.range, fmt::format("cannot create map {}{}",
                                             desc.name, trim(map_reason)));
        return;
      }
    }
    auto &d = diags_.error(
        SourceRange{},
        fmt::format("cannot load the BPF object: {}", error_text(err)));
    add_last_libbpf_line(d);
  }

  bool open_ringbuf() {
    if (!ringbuf_map_)
      return true; // nothing to read: the program sends no events
    ringbuf_ =
        ring_buffer__new(bpf_map__fd(ringbuf_map_), on_event, this, nullptr);
    if (!ringbuf_) {
      diags_.error(SourceRange{},
                   fmt::format("cannot read the output ring buffer: {}",
                               std::strerror(errno)));
      return false;
    }
    return true;
  }

  // --- programs loaded on demand ---------------------------------------------

  // Loads program `index` alone, in a fresh object that shares the main
  // object's maps. Null with `err` set when the kernel refuses it.
  bpf_program *program_for(size_t index, AttachError &err) {
    Program &p = programs_[index];
    if (!p.prog) {
      err.reason = "the BPF object has no program for it";
      return nullptr;
    }
    if (!p.on_demand)
      return p.prog;
    if (p.loaded)
      return p.loaded;
    const ProbeDesc &probe = program_.probes[index];
    // A kernel that refuses one trampoline refuses them all: do not load
    // each of a wildcard's matches to be told so again.
    if (!p.load_tried && is_trampoline(probe.kind) && trampolines_refused_) {
      p.load_tried = true;
      p.load_error = *trampolines_refused_;
      p.load_error.reason =
          fmt::format("the kernel refused to load the {} program ({})",
                      kind_name(probe.kind), std::strerror(EPERM));
    }
    if (p.load_tried) {
      err = p.load_error;
      return nullptr;
    }
    p.load_tried = true;
    bpf_object *object = open_object();
    if (!object) {
      p.load_error.reason =
          fmt::format("cannot open the BPF object: {}", error_text(errno));
      err = p.load_error;
      return nullptr;
    }
    bpf_program *prog = nullptr, *each = nullptr;
    bpf_object__for_each_program(each, object) {
      bool wanted = probe.program_name == bpf_program__name(each);
      bpf_program__set_autoload(each, wanted);
      if (wanted)
        prog = each;
    }
    bpf_map *map = nullptr;
    bpf_object__for_each_map(map, object) {
      bpf_map *shared =
          bpf_object__find_map_by_name(object_, bpf_map__name(map));
      if (shared)
        bpf_map__reuse_fd(map, bpf_map__fd(shared));
    }
    if (prog)
      enable_verifier_log(prog, p);
    log_.captured.clear();
    int rc = prog ? bpf_object__load(object) : -ENOENT;
    if (options_.verifier_log && !p.log_buf.empty() && p.log_buf[0]) {
      *options_.verifier_log << fmt::format(
          "--- verifier log of {} as {} ({}) ---\n{}\n", probe.display,
          kind_name(probe.kind), probe.program_name, p.log_buf.c_str());
      options_.verifier_log->flush();
    }
    if (rc)
      explain_load_failure(probe, rc, p);
    std::string().swap(p.log_buf);
    if (rc) {
      bpf_object__close(object);
      err = p.load_error;
      return nullptr;
    }
    p.own_object = object;
    p.loaded = prog;
    return prog;
  }

  void explain_load_failure(const ProbeDesc &probe, int rc, Program &p) {
    AttachError &err = p.load_error;
    const char *kind = kind_name(probe.kind);
    const std::string &log = log_.captured;
    if (log.find("failed to find kernel BTF type ID") != std::string::npos) {
      explain_missing_kernel_function(probe.target, probe.function, err);
      if (!err.not_found) {
        err.reason = fmt::format("kernel function '{}' has no BTF "
                                 "description, which {} needs",
                                 probe.function, kind);
        err.hints.push_back("functions with BTF are listed by hvt -l "
                            "'fentry:*'");
      }
      return;
    }
    if (rc == -EPERM || rc == -EACCES) {
      err.reason = fmt::format("the kernel refused to load the {} program "
                               "({})",
                               kind, std::strerror(-rc));
      if (is_trampoline(probe.kind)) {
        err.hints.push_back("BPF trampolines (fentry/fexit) are disabled "
                            "here, e.g. by a lockdown or LSM policy, or "
                            "unsupported on this architecture");
        if (rc == -EPERM)
          trampolines_refused_ = err;
      }
      return;
    }
    std::string verifier_log = logged_verifier_log(log, probe.program_name);
    if (verifier_log.empty() && !p.log_buf.empty())
      verifier_log = p.log_buf.c_str();
    if (!verifier_log.empty()) {
      VerifierSummary summary = summarize_verifier_log(verifier_log);
      err.reason = fmt::format("the BPF verifier rejected the {} program: {}",
                               kind, summary.error);
      if (!summary.instruction.empty())
        err.hints.push_back("at instruction " + summary.instruction);
      return;
    }
    err.reason =
        fmt::format("cannot load the {} program: {}", kind, error_text(rc));
  }

  // The fallback twin of ProbeDesc `index`, or -1.
  int twin_of(size_t index) const {
    size_t next = index + 1;
    if (next < program_.probes.size() && program_.probes[next].fallback &&
        program_.probes[next].probe_index == program_.probes[index].probe_index)
      return static_cast<int>(next);
    return -1;
  }

  // Tells once per reason (with -v) that a kind fell back to the other.
  void note_fallback(const ProbeDesc &probe, const ProbeDesc &twin,
                     const AttachError &why, const char *verb) {
    if (!options_.verbose || !noted_fallbacks_.insert(why.reason).second)
      return;
    warn(probe.range, fmt::format("{}: {}; {} as {} instead", probe.display,
                                  why.reason, verb, kind_name(twin.kind)));
  }

  static AttachError combine(const AttachError &first, const ProbeDesc &twin,
                             const AttachError &second) {
    AttachError both;
    both.reason =
        fmt::format("{}, and the {} fallback failed: {}", first.reason,
                    kind_name(twin.kind), second.reason);
    both.hints = first.hints;
    for (const auto &h : second.hints)
      if (std::find(both.hints.begin(), both.hints.end(), h) ==
          both.hints.end())
        both.hints.push_back(h);
    return both;
  }

  // --dry-run -v: the attach points the compiler left out.
  void note_skipped_points() {
    if (!options_.verbose)
      return;
    for (const auto &s : program_.skipped) {
      Diagnostic d;
      d.severity = Severity::Warning;
      d.range = s.range;
      d.message = fmt::format("{} is left out: {}", s.display, s.reason);
      d.hints = s.hints;
      warn(std::move(d));
    }
  }

  // --dry-run: programs loaded on demand are verified too, falling back
  // like a real run would.
  bool load_on_demand_programs() {
    bool ok = true;
    for (size_t i = 0; i < program_.probes.size(); ++i) {
      const ProbeDesc &probe = program_.probes[i];
      if (probe.fallback || !programs_[i].on_demand)
        continue;
      AttachError first;
      if (program_for(i, first))
        continue;
      int twin = twin_of(i);
      AttachError second;
      if (twin >= 0 && !first.not_found && program_for(twin, second)) {
        note_fallback(probe, program_.probes[twin], first, "loaded");
        continue;
      }
      AttachError err = twin >= 0 && !first.not_found
                            ? combine(first, program_.probes[twin], second)
                            : first;
      auto &d =
          diags_.error(probe.range, fmt::format("cannot load {}: {}",
                                                probe.display, err.reason));
      for (auto &h : err.hints)
        d.hint(std::move(h));
      ok = false;
    }
    return ok;
  }

  // --- attaching -------------------------------------------------------------

  bool try_attach(size_t index, AttachError &err) {
    bpf_program *prog = program_for(index, err);
    return prog && attach_probe(program_.probes[index], prog, attach_options_,
                                attachments_, err);
  }

  Outcome attach_point(size_t index) {
    Outcome outcome;
    if (try_attach(index, outcome.error)) {
      outcome.attached = true;
      return outcome;
    }
    int twin = twin_of(index);
    if (twin < 0 || outcome.error.not_found)
      return outcome;
    AttachError second;
    if (try_attach(twin, second)) {
      note_fallback(program_.probes[index], program_.probes[twin],
                    outcome.error, "attached");
      outcome.attached = true;
      return outcome;
    }
    outcome.error = combine(outcome.error, program_.probes[twin], second);
    return outcome;
  }

  // Missing-probe policy: a probe whose attach points partly fail still
  // runs (-v says what was left out and why); a probe with nothing attached
  // is an error, reported once per attach point as written.
  bool attach_all() {
    struct Failure {
      std::string display;
      SourceRange range;
      AttachError error;
    };
    std::map<size_t, std::vector<Failure>> failures; // by probe block
    std::map<size_t, size_t> attached;               // by probe block
    struct DropBinary {
      const AttachOptions &options;
      ~DropBinary() { options.last_binary.reset(); }
    } drop_binary{attach_options_};
    for (size_t i = 0; i < program_.probes.size(); ++i) {
      const ProbeDesc &probe = program_.probes[i];
      if (probe.fallback)
        continue;
      if (probe.kind == ProbeKind::Begin || probe.kind == ProbeKind::End) {
        ++attached[probe.probe_index];
        ++attached_count_;
        continue;
      }
      Outcome outcome = attach_point(i);
      if (outcome.attached) {
        ++attached[probe.probe_index];
        ++attached_count_;
      } else {
        failures[probe.probe_index].push_back(
            {probe.display, probe.range, std::move(outcome.error)});
      }
    }
    for (const auto &skipped : program_.skipped)
      failures[skipped.probe_index].push_back(
          {skipped.display, skipped.range, {skipped.reason, skipped.hints}});

    bool ok = true;
    for (auto &[block, list] : failures) {
      bool runs = attached[block] > 0;
      ok = ok && runs;
      if (runs && !options_.verbose)
        continue;
      // Wildcard matches share the range of the attach point as written:
      // one message for all of them.
      for (size_t i = 0; i < list.size();) {
        size_t same = 1;
        while (i + same < list.size() &&
               list[i + same].range.begin.line == list[i].range.begin.line &&
               list[i + same].range.begin.column == list[i].range.begin.column)
          ++same;
        const Failure &f = list[i];
        Diagnostic d;
        d.range = f.range;
        d.hints = f.error.hints;
        if (runs) {
          d.severity = Severity::Warning;
          d.message =
              same == 1
                  ? fmt::format("{} is not attached: {}", f.display,
                                f.error.reason)
                  : fmt::format("{} and the {} other matches of this attach "
                                "point are not attached: {}",
                                f.display, same - 1, f.error.reason);
          d.hints.push_back("the probe runs on its other attach points");
          warn(std::move(d));
        } else {
          d.message =
              same == 1
                  ? fmt::format("cannot attach {}: {}", f.display,
                                f.error.reason)
                  : fmt::format("cannot attach {} (nor the {} other matches "
                                "of this attach point): {}",
                                f.display, same - 1, f.error.reason);
          auto &added = diags_.error(d.range, d.message);
          for (auto &h : d.hints)
            added.hint(std::move(h));
        }
        i += same;
      }
    }
    if (!ok)
      attachments_.detach();
    return ok;
  }

  void warn(SourceRange range, std::string message) {
    Diagnostic d;
    d.severity = Severity::Warning;
    d.range = range;
    d.message = std::move(message);
    warn(std::move(d));
  }

  void warn(Diagnostic d) {
    if (options_.on_warning) {
      options_.on_warning(d);
      return;
    }
    auto &added = diags_.warning(d.range, d.message);
    for (auto &h : d.hints)
      added.hint(std::move(h));
  }

  bool run_special(ProbeKind kind) {
    for (size_t i = 0; i < program_.probes.size(); ++i) {
      const ProbeDesc &probe = program_.probes[i];
      if (probe.kind == kind && probe.program_name.empty()) {
        // No program: the records it would send (codegen's constant
        // records). BEGIN's are handled after attaching, like its output.
        if (kind == ProbeKind::Begin)
          constant_begins_.push_back(&probe);
        else
          replay(probe.constant_records);
        continue;
      }
      if (probe.kind != kind || !programs_[i].prog)
        continue;
      int err = run_begin_end(bpf_program__fd(programs_[i].prog));
      if (err) {
        diags_.error(probe.range,
                     fmt::format("cannot run probe '{}': {}", probe.display,
                                 std::strerror(-err)));
        return false;
      }
    }
    return true;
  }

  // --- -p and -c -------------------------------------------------------------

  bool watch_target_process() {
    if (options_.pid <= 0)
      return true;
    target_pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, options_.pid, 0));
    if (target_pidfd_ < 0 && errno == ESRCH) {
      diags_.error(SourceRange{},
                   fmt::format("process {} does not exist (-p)", options_.pid));
      return false;
    }
    return true; // without pidfd_open the run just does not end with it
  }

  bool start_child() {
    child_to_stop = options_.child->pid();
    std::string error;
    if (!options_.child->release(error)) {
      diags_.error(SourceRange{},
                   fmt::format("cannot run the -c command: {}", error));
      return false;
    }
    return true;
  }

  // --- events ----------------------------------------------------------------

  bool add_to_epoll(int fd) {
    if (fd < 0)
      return true;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    return epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) == 0;
  }

  // Sleeps in epoll_wait until the ring buffer has records, a signal
  // arrives or the -p/-c process exits: no CPU while idle.
  bool event_loop() {
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    int ringbuf_fd = ringbuf_ ? ring_buffer__epoll_fd(ringbuf_) : -1;
    int child_fd = options_.child ? options_.child->pidfd() : -1;
    if (epoll_fd_ < 0 || !add_to_epoll(ringbuf_fd) ||
        !add_to_epoll(signals_.read_fd()) || !add_to_epoll(child_fd) ||
        !add_to_epoll(target_pidfd_)) {
      diags_.error(SourceRange{}, fmt::format("cannot wait for events: {}",
                                              std::strerror(errno)));
      return false;
    }
    while (!stop_signalled() && !exit_requested_ && !output_broken_) {
      epoll_event events[4];
      int n = epoll_wait(epoll_fd_, events, 4, -1);
      if (n < 0 && errno != EINTR) {
        diags_.error(SourceRange{}, fmt::format("waiting for events failed: {}",
                                                std::strerror(errno)));
        return false;
      }
      for (int i = 0; i < n; ++i) {
        int fd = events[i].data.fd;
        if (fd == ringbuf_fd) {
          int rc = ring_buffer__consume(ringbuf_);
          if (rc < 0 && rc != -EINTR) {
            diags_.error(SourceRange{},
                         fmt::format("reading the output ring buffer "
                                     "failed: {}",
                                     std::strerror(-rc)));
            return false;
          }
        } else if (fd == child_fd) {
          options_.child->reap();
          exit_requested_ = true;
        } else if (fd == target_pidfd_) {
          exit_requested_ = true;
        }
      }
      report_lost_events();
      end_batch();
    }
    return true;
  }

  // Handles whatever is left in the ring buffer without waiting.
  void consume() {
    if (ringbuf_)
      ring_buffer__consume(ringbuf_);
    end_batch();
  }

  void end_batch() {
    if (options_.buffering != Buffering::Full)
      output_->flush();
    check_output();
  }

  // A closed pipe (`hvt ... | head -1`) or a full disk ends the run
  // quietly: there is nobody to print to.
  void check_output() {
    if (!options_.out->good())
      output_broken_ = true;
  }

  static int on_event(void *ctx, void *data, size_t size) {
    auto *session = static_cast<Session *>(ctx);
    session->handle_event(static_cast<uint8_t *>(data), size);
    if (session->options_.buffering == Buffering::None)
      session->output_->flush();
    return 0;
  }

  // Records as a program without one would have sent them: each a u32
  // length, then the record.
  void replay(const std::vector<uint8_t> &records) {
    size_t at = 0;
    uint32_t size = 0;
    while (at + sizeof(size) <= records.size()) {
      memcpy(&size, records.data() + at, sizeof(size));
      at += sizeof(size);
      if (size > records.size() - at)
        break;
      handle_event(records.data() + at, size);
      at += size;
    }
  }

  void handle_event(const uint8_t *data, size_t size) {
    // Like bpftrace, nothing sent after exit() is shown.
    if (ignore_events_ || output_broken_ || size < sizeof(EventHeader))
      return;
    EventHeader header;
    memcpy(&header, data, sizeof(header));
    const uint8_t *payload = data + sizeof(header);
    size_t len = size - sizeof(header);
    switch (static_cast<EventKind>(header.kind)) {
    case EventKind::Printf:
      if (header.id < printfs_.size())
        output_->printf_result(printfs_[header.id].format(payload, len));
      break;
    case EventKind::Exit:
      if (!in_end_) {
        exit_requested_ = true;
        ignore_events_ = true;
      }
      break;
    case EventKind::PrintMap:
      if (header.id < program_.maps.size()) {
        MapPrintArgs args;
        if (len >= 16) {
          memcpy(&args.top, payload, 8);
          memcpy(&args.div, payload + 8, 8);
        }
        output_->map(program_.maps[header.id], read_map(header.id), args);
      }
      break;
    case EventKind::ClearMap:
      if (header.id < program_.maps.size())
        clear_map(header.id);
      break;
    case EventKind::ZeroMap:
      if (header.id < program_.maps.size())
        zero_map(header.id);
      break;
    case EventKind::PrintValue:
      if (header.id < program_.print_values.size())
        output_->value(program_.print_values[header.id], payload, len);
      break;
    case EventKind::Time:
      if (header.id < program_.time_formats.size())
        output_->time_result(
            format_time(program_.time_formats[header.id], ::time(nullptr)));
      break;
    }
  }

  // Records the programs could not send because the ring buffer was full
  // (the u64 at the start of the counter's data section, which all CPUs add
  // to atomically); each report says how many were lost since the last.
  void report_lost_events() {
    if (!lost_map_)
      return;
    std::vector<uint64_t> section((bpf_map__value_size(lost_map_) + 7) / 8);
    uint32_t key = 0;
    if (section.empty() ||
        bpf_map_lookup_elem(bpf_map__fd(lost_map_), &key, section.data()) != 0)
      return;
    uint64_t total = section[0];
    if (total > lost_reported_ && !output_broken_) {
      output_->lost_events(total - lost_reported_);
      lost_reported_ = total;
    }
  }

  // --- maps ------------------------------------------------------------------

  struct MapLayout {
    int fd = -1;
    size_t key_size = 0;
    size_t value_size = 0;  // one CPU's value as the runtime interprets it
    size_t buffer_size = 0; // what lookup/update read and write
    size_t max_entries = 0;
  };

  MapLayout layout(size_t index) const {
    const MapDesc &desc = program_.maps[index];
    const bpf_map *map = maps_[index];
    MapLayout l;
    l.fd = bpf_map__fd(map);
    l.key_size = std::max<size_t>(bpf_map__key_size(map), desc.bpf_key_size());
    l.value_size =
        std::max<size_t>(bpf_map__value_size(map), desc.bpf_value_size());
    l.buffer_size = is_percpu(desc.storage)
                        ? (l.value_size + 7) / 8 * 8 * ncpus_
                        : l.value_size;
    l.max_entries = bpf_map__max_entries(map);
    return l;
  }

  // Every key currently in the map. Bounded by max_entries, since a hash
  // map's iteration restarts when the current key is deleted concurrently.
  std::vector<std::vector<uint8_t>> keys(const MapLayout &l) const {
    std::vector<std::vector<uint8_t>> result;
    std::vector<uint8_t> next(l.key_size);
    const void *prev = nullptr;
    while ((l.max_entries == 0 || result.size() < l.max_entries) &&
           bpf_map_get_next_key(l.fd, prev, next.data()) == 0) {
      result.push_back(next);
      prev = result.back().data();
    }
    return result;
  }

  std::vector<MapEntry> read_map(size_t index) const {
    const MapDesc &desc = program_.maps[index];
    MapLayout l = layout(index);
    std::vector<MapEntry> entries;
    std::vector<uint8_t> value(l.buffer_size);
    for (auto &key : keys(l)) {
      if (bpf_map_lookup_elem(l.fd, key.data(), value.data()) != 0)
        continue; // deleted meanwhile
      MapEntry entry;
      entry.key = std::move(key);
      if (is_percpu(desc.storage))
        entry.value = merge_percpu(desc, value.data(), ncpus_);
      else
        entry.value.assign(value.begin(), value.begin() + l.value_size);
      entries.push_back(std::move(entry));
    }
    return entries;
  }

  void clear_map(size_t index) {
    if (is_array(program_.maps[index].storage)) {
      zero_map(index, false); // array slots cannot be deleted
      return;
    }
    MapLayout l = layout(index);
    for (const auto &key : keys(l))
      bpf_map_delete_elem(l.fd, key.data());
  }

  void zero_map(size_t index, bool keep_rows = true) {
    MapLayout l = layout(index);
    std::vector<uint8_t> zeros(l.buffer_size, 0);
    for (const auto &key : keys(l))
      bpf_map_update_elem(l.fd, key.data(), zeros.data(), BPF_EXIST);
    // A key-less histogram in an array: its last slot, which no bucket
    // uses, says that zero() kept it (bpftrace prints it, empty).
    const MapDesc &desc = program_.maps[index];
    if (keep_rows && is_array(desc.storage) &&
        (desc.agg == AggKind::Hist || desc.agg == AggKind::LHist)) {
      uint32_t marker = desc.max_entries - 1;
      zeros[0] = 1;
      bpf_map_update_elem(l.fd, &marker, zeros.data(), BPF_EXIST);
    }
  }

  // bpftrace prints every map at exit, in name order.
  void print_all_maps() {
    std::vector<size_t> order(program_.maps.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return program_.maps[a].name < program_.maps[b].name;
    });
    for (size_t index : order)
      output_->map(program_.maps[index], read_map(index), {});
  }

  const CompiledProgram &program_;
  const RunOptions &options_;
  Diagnostics &diags_;
  LibbpfLog &log_;
  const SignalGuard &signals_;
  std::unique_ptr<Output> output_;
  std::vector<PrintfFormatter> printfs_;
  size_t ncpus_ = static_cast<size_t>(std::max(libbpf_num_possible_cpus(), 1));
  AttachOptions attach_options_;
  KernelObjectsAhead own_objects_ahead_;

  bpf_object *object_ = nullptr;
  std::vector<Program> programs_; // parallel to program_.probes
  std::vector<bpf_map *> maps_;   // parallel to program_.maps
  bpf_map *ringbuf_map_ = nullptr;
  bpf_map *lost_map_ = nullptr;
  ring_buffer *ringbuf_ = nullptr;
  Attachments attachments_;
  size_t attached_count_ = 0;
  std::set<std::string> noted_fallbacks_;
  std::optional<AttachError> trampolines_refused_; // EPERM loading one
  int epoll_fd_ = -1;
  int target_pidfd_ = -1;

  bool exit_requested_ = false; // exit() was called, or -p/-c process ended
  bool ignore_events_ = false;  // drop events sent after exit()
  std::vector<const ProbeDesc *> constant_begins_; // BEGINs without a program
  bool in_end_ = false;           // END is running: exit() means nothing
  bool output_broken_ = false;    // the output stream cannot be written
  bool language_started_ = false; // start_language_support() ran
  uint64_t lost_reported_ = 0;
};

} // namespace

int run_program(const CompiledProgram &program, const RunOptions &options,
                Diagnostics &diags) {
  // The guards outlive the session, so its cleanup runs under them too.
  LibbpfLog log;
  log.verbose = options.verbose;
  log.err = options.err;
  LibbpfLogGuard log_guard(log);
  SignalGuard signal_guard;
  Session session(program, options, diags, log, signal_guard);
  return session.run();
}

} // namespace hvt
