#include "runtime.h"

#include "attach.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdarg>
#include <cstring>
#include <ctime>
#include <numeric>
#include <sstream>

#include <fmt/format.h>

namespace hvt {

namespace {

constexpr int poll_timeout_ms = 100;

// --- signals --------------------------------------------------------------

volatile sig_atomic_t stop_requested = 0;

void on_stop_signal(int) { stop_requested = 1; }

// Installs SIGINT/SIGTERM handlers for its lifetime. Installed explicitly
// because a shell starts background jobs with SIGINT ignored. No
// SA_RESTART, so a signal interrupts the ring buffer poll.
class SignalGuard {
public:
  SignalGuard() {
    stop_requested = 0;
    struct sigaction action = {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &old_int_);
    sigaction(SIGTERM, &action, &old_term_);
  }
  ~SignalGuard() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  SignalGuard(const SignalGuard &) = delete;
  SignalGuard &operator=(const SignalGuard &) = delete;

private:
  struct sigaction old_int_ = {}, old_term_ = {};
};

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

// --- the running program --------------------------------------------------

class Session {
public:
  Session(const CompiledProgram &program, const RunOptions &options,
          Diagnostics &diags, LibbpfLog &log)
      : program_(program), options_(options), diags_(diags), log_(log),
        output_(make_output(options.format, *options.out)) {
    for (const auto &desc : program.printfs)
      printfs_.emplace_back(desc);
  }

  // The one cleanup path: everything below is safe on a partial setup.
  ~Session() {
    ring_buffer__free(ringbuf_);
    attachments_.detach();
    bpf_object__close(object_);
  }

  Session(const Session &) = delete;
  Session &operator=(const Session &) = delete;

  int run() {
    raise_memlock_limit();
    if (!open() || !find_programs_and_maps() || !load() || !open_ringbuf())
      return 1;
    // --dry-run: the verifier accepted every program; attach nothing.
    if (options_.dry_run)
      return 0;

    // BEGIN runs before any other probe can fire. Its output waits in the
    // ring buffer, so it still prints after the "Attaching" line, which comes
    // once the probes really are attached.
    if (!run_special(ProbeKind::Begin) || !attach_all())
      return 1;
    if (!options_.quiet) {
      output_->attached_probes(program_.probes.size());
      output_->flush();
    }

    bool ok = event_loop();

    // Stop the probes, then let END run and the maps be printed.
    attachments_.detach();
    consume();
    ignore_events_ = false;
    in_end_ = true;
    ok = run_special(ProbeKind::End) && ok;
    consume();
    output_->end_of_run();
    print_all_maps();
    output_->flush();
    return ok ? 0 : 1;
  }

private:
  static void raise_memlock_limit() {
    // Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK. Failing to
    // raise it is harmless on newer kernels, so it is not an error.
    rlimit unlimited = {RLIM_INFINITY, RLIM_INFINITY};
    setrlimit(RLIMIT_MEMLOCK, &unlimited);
  }

  // --- setup ---------------------------------------------------------------

  bool open() {
    bpf_object_open_opts opts{};
    opts.sz = sizeof(opts);
    opts.object_name = "hvt";
    object_ =
        bpf_object__open_mem(program_.elf.data(), program_.elf.size(), &opts);
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

  bool find_programs_and_maps() {
    bool ok = true;
    for (const auto &probe : program_.probes) {
      bpf_program *prog =
          bpf_object__find_program_by_name(object_, probe.program_name.c_str());
      if (!prog) {
        diags_.error(probe.range,
                     fmt::format("internal error: the BPF object has no "
                                 "program '{}' for probe '{}'",
                                 probe.program_name, probe.display));
        ok = false;
      }
      programs_.push_back(prog);
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
    // The ring buffer size must be a power-of-two number of pages.
    uint32_t size = program_.ringbuf_size;
    long page = sysconf(_SC_PAGESIZE);
    if (ringbuf_map_ && size && (size & (size - 1)) == 0 && page > 0 &&
        size % page == 0)
      bpf_map__set_max_entries(ringbuf_map_, size);
    return ok;
  }

  bool load() {
    log_.captured.clear();
    int err = bpf_object__load(object_);
    if (err) {
      report_load_error(err);
      return false;
    }
    return true;
  }

  const ProbeDesc *probe_by_program(const std::string &name) const {
    for (const auto &probe : program_.probes)
      if (probe.program_name == name)
        return &probe;
    return nullptr;
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

  void report_load_error(int err) {
    const std::string &log = log_.captured;
    std::string reason;
    std::string prog =
        quoted_after(log, "prog '", ": BPF program load failed: ", &reason);
    if (!prog.empty()) {
      const ProbeDesc *probe = probe_by_program(prog);
      SourceRange range = probe ? probe->range : SourceRange{};
      std::string name = probe ? probe->display : prog;
      std::string begin =
          fmt::format("prog '{}': -- BEGIN PROG LOAD LOG --\n", prog);
      size_t start = log.find(begin);
      size_t end = log.find("-- END PROG LOAD LOG --", start);
      if (start != std::string::npos && end != std::string::npos) {
        start += begin.size();
        VerifierSummary summary =
            summarize_verifier_log(log.substr(start, end - start));
        auto &d = diags_.error(
            range, fmt::format("BPF verifier rejected probe '{}': {}", name,
                               summary.error));
        if (!summary.instruction.empty())
          d.hint("at instruction " + summary.instruction);
        d.hint(options_.verbose ? "the full verifier log is printed above"
                                : "run with -v to see the full verifier log");
        return;
      }
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

  bool attach_all() {
    bool ok = true;
    for (size_t i = 0; i < program_.probes.size(); ++i) {
      const ProbeDesc &probe = program_.probes[i];
      if (probe.kind == ProbeKind::Begin || probe.kind == ProbeKind::End)
        continue;
      AttachError err;
      if (attach_probe(probe, programs_[i], attachments_, err))
        continue;
      auto &d =
          diags_.error(probe.range, fmt::format("cannot attach probe '{}': {}",
                                                probe.display, err.reason));
      for (auto &hint : err.hints)
        d.hint(std::move(hint));
      ok = false;
      break; // the first failure is the useful one
    }
    return ok;
  }

  bool run_special(ProbeKind kind) {
    for (size_t i = 0; i < program_.probes.size(); ++i) {
      const ProbeDesc &probe = program_.probes[i];
      if (probe.kind != kind)
        continue;
      int err = run_begin_end(bpf_program__fd(programs_[i]));
      if (err) {
        diags_.error(probe.range,
                     fmt::format("cannot run probe '{}': {}", probe.display,
                                 std::strerror(-err)));
        return false;
      }
    }
    return true;
  }

  // --- events ----------------------------------------------------------------

  bool event_loop() {
    while (!stop_requested && !exit_requested_) {
      int n = 0;
      if (ringbuf_)
        n = ring_buffer__poll(ringbuf_, poll_timeout_ms);
      else
        usleep(poll_timeout_ms * 1000);
      output_->flush();
      if (n < 0 && n != -EINTR) {
        diags_.error(SourceRange{},
                     fmt::format("reading the output ring buffer failed: {}",
                                 std::strerror(-n)));
        return false;
      }
    }
    return true;
  }

  // Handles whatever is left in the ring buffer without waiting.
  void consume() {
    if (ringbuf_)
      ring_buffer__consume(ringbuf_);
    output_->flush();
  }

  static int on_event(void *ctx, void *data, size_t size) {
    static_cast<Session *>(ctx)->handle_event(static_cast<uint8_t *>(data),
                                              size);
    return 0;
  }

  void handle_event(const uint8_t *data, size_t size) {
    // Like bpftrace, nothing sent after exit() is shown.
    if (ignore_events_ || size < sizeof(EventHeader))
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
      zero_map(index); // array slots cannot be deleted
      return;
    }
    MapLayout l = layout(index);
    for (const auto &key : keys(l))
      bpf_map_delete_elem(l.fd, key.data());
  }

  void zero_map(size_t index) {
    MapLayout l = layout(index);
    std::vector<uint8_t> zeros(l.buffer_size, 0);
    for (const auto &key : keys(l))
      bpf_map_update_elem(l.fd, key.data(), zeros.data(), BPF_EXIST);
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
  std::unique_ptr<Output> output_;
  std::vector<PrintfFormatter> printfs_;
  size_t ncpus_ = static_cast<size_t>(std::max(libbpf_num_possible_cpus(), 1));

  bpf_object *object_ = nullptr;
  std::vector<bpf_program *> programs_; // parallel to program_.probes
  std::vector<bpf_map *> maps_;         // parallel to program_.maps
  bpf_map *ringbuf_map_ = nullptr;
  ring_buffer *ringbuf_ = nullptr;
  Attachments attachments_;

  bool exit_requested_ = false; // exit() was called
  bool ignore_events_ = false;  // drop events sent after exit()
  bool in_end_ = false;         // END is running: exit() means nothing
};

} // namespace

VerifierSummary summarize_verifier_log(const std::string &log) {
  static const char *bookkeeping[] = {
      "processed ",   "verification time", "stack depth", "max_states_per_insn",
      "-- END PROG",  "libbpf: ",          "Validating ", "func#",
      "mark_precise",
  };
  auto lines = split_lines(log);
  VerifierSummary summary;
  for (size_t i = lines.size(); i-- > 0;) {
    std::string line = trim(lines[i]);
    if (line.empty())
      continue;
    bool skip = false;
    for (const char *prefix : bookkeeping)
      skip = skip || starts_with(line, prefix);
    if (skip)
      continue;
    summary.error = line;
    // "12: (79) r1 = ..." is the instruction the error is about.
    if (i > 0) {
      std::string prev = trim(lines[i - 1]);
      size_t colon = prev.find(": (");
      if (colon != std::string::npos && colon > 0 &&
          std::all_of(prev.begin(), prev.begin() + colon, [](char c) {
            return isdigit(static_cast<unsigned char>(c));
          }))
        summary.instruction = prev;
    }
    break;
  }
  if (summary.error.empty())
    summary.error = "no reason given";
  return summary;
}

int run_program(const CompiledProgram &program, const RunOptions &options,
                Diagnostics &diags) {
  // The guards outlive the session, so its cleanup runs under them too.
  LibbpfLog log;
  log.verbose = options.verbose;
  log.err = options.err;
  LibbpfLogGuard log_guard(log);
  SignalGuard signal_guard;
  Session session(program, options, diags, log);
  return session.run();
}

} // namespace hvt
