// The runtime's public API: run a CompiledProgram with libbpf, the way
// bpftrace runs a script.
#pragma once

#include "frontend/diagnostics.h"
#include "output.h"
#include "program.h"

#include <iostream>

namespace hvt {

struct RunOptions {
  bool verbose = false; // libbpf's own log (incl. verifier logs) on `err`
  bool quiet = false;   // no "Attaching N probes..."
  bool dry_run = false; // load into the verifier only: nothing attaches or runs
  OutputFormat format = OutputFormat::Text;
  std::ostream *out = &std::cout; // program output
  std::ostream *err = &std::cerr; // verbose libbpf log only
};

// Loads the program's BPF object, runs the BEGIN programs, attaches every
// other probe, prints "Attaching N probes..." and then prints what the programs
// send until one calls exit() or the process gets SIGINT/SIGTERM. Then it
// detaches, runs END, prints every map (bpftrace's exit output) and frees
// everything.
//
// Returns the process exit code: 0 on success, 1 on error. Load and attach
// errors are added to `diags` at the failing probe's ProbeDesc::range (or
// the map's MapDesc::range); nothing is printed for them here.
//
// SIGINT and SIGTERM handlers and libbpf's print callback are installed for
// the duration of the call and restored afterwards, so one program runs at a
// time per process.
int run_program(const CompiledProgram &program, const RunOptions &options,
                Diagnostics &diags);

// The message of a verifier log worth showing: the last line that is not
// bookkeeping ("processed N insns ...", "verification time ..."), and the
// instruction line right before it if there is one. Exposed for tests.
struct VerifierSummary {
  std::string error;       // "R1 invalid mem access 'scalar'"
  std::string instruction; // "5: (79) r1 = *(u64 *)(r1 +0)" or ""
};
VerifierSummary summarize_verifier_log(const std::string &log);

} // namespace hvt
