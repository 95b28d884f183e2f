// The runtime's public API: run a CompiledProgram with libbpf, the way
// bpftrace runs a script.
#pragma once

#include "frontend/diagnostics.h"
#include "output.h"
#include "program.h"
#include "verifier.h"

#include <functional>
#include <iostream>

namespace hvt {

class ChildProcess;
class KernelObjectsAhead;

// -B: when program output reaches the output stream.
enum class Buffering {
  None, // every record is written at once
  Line, // complete records are written after each batch of events
  Full, // written when the stream's buffer fills, and at exit
};

struct RunOptions {
  bool verbose = false; // libbpf's log, skipped attach points, fallbacks
  bool quiet = false;   // no "Attaching N probes..."
  bool dry_run = false; // load into the verifier only: nothing attaches or runs
  OutputFormat format = OutputFormat::Text;
  Buffering buffering = Buffering::Line;
  std::ostream *out = &std::cout; // program output
  std::ostream *err = &std::cerr; // libbpf's log (-v), full-map warnings
  // -d verifier: every program's verifier log is written here.
  std::ostream *verifier_log = nullptr;
  // -p PID: uprobes attach to this process only, and the run ends when it
  // exits (the compiler filters the other probes on it).
  int pid = 0;
  // -c CMD: released once every probe is attached; the run ends when it
  // exits.
  ChildProcess *child = nullptr;
  // Warnings (-v notes on skipped attach points and fallbacks) as they
  // happen. When unset they are added to `diags` like errors.
  std::function<void(const Diagnostic &)> on_warning;
  // Called once every probe is attached and BEGIN has run, before the first
  // event is read (hvt unloads its compiler there, off the startup path).
  std::function<void()> on_attached;
  // Maps and perf events the caller made ahead (objects_ahead.h), for the
  // load and the providers to take; null: the runtime decides.
  KernelObjectsAhead *objects_ahead = nullptr;
};

// Loads the program's BPF object, runs the BEGIN programs, attaches every
// other probe, prints "Attaching N probes..." and then prints what the
// programs send until one calls exit(), the process gets SIGINT/SIGTERM, or
// the -p/-c process exits. Then it detaches, runs END, prints every map
// (bpftrace's exit output) and frees everything.
//
// kprobe/kretprobe and fentry/fexit fall back to each other when the kernel
// refuses one kind. A probe whose attach points partly fail still runs;
// only a probe with nothing attached is an error.
//
// Returns the process exit code: 0 on success (also when the output stream
// is closed, as by `| head`), 1 on error. Load and attach errors are added
// to `diags` at the failing probe's ProbeDesc::range (or the map's
// MapDesc::range); nothing is printed for them here.
//
// SIGINT, SIGTERM and SIGPIPE handling and libbpf's print callback are
// installed for the duration of the call and restored afterwards, so one
// program runs at a time per process. A second SIGINT/SIGTERM exits at once.
int run_program(const CompiledProgram &program, const RunOptions &options,
                Diagnostics &diags);

} // namespace hvt
