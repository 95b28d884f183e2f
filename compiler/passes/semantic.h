// Results of the semantic passes: resolved attach points, map and variable
// symbols. Codegen reads these alongside the (now typed) AST.
#pragma once

#include "frontend/ast.h"
#include "frontend/diagnostics.h"
#include "passes/print_fmt.h"
#include "passes/tracepoint_format.h"
#include "program.h"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace hvt {

struct SemanticOptions {
  std::vector<std::string> positional; // $1..$N
  uint32_t string_size = 64;           // str() and __data_loc reads
  uint32_t map_size = 4096;            // default max_entries
  uint32_t target_pid = 0; // -p PID: probes fire for this process only
  uint32_t child_pid = 0;  // -c CMD: the child's pid (the cpid builtin)
  // Default kstack/ustack output: config stack_mode.
  StackMode stack_mode = StackMode::Bpftrace;
  // Attach points in one program (config max_probes): bpftrace's default.
  // A wildcard matching more is almost always a typo, and each match costs
  // a program and an attach.
  uint32_t max_probes = 512;
  // Whether check_types() lets bpftrace's environment variables
  // (BPFTRACE_STRLEN / BPFTRACE_MAX_STRLEN, BPFTRACE_MAP_KEYS_MAX /
  // BPFTRACE_MAX_MAP_KEYS, BPFTRACE_STACK_MODE, BPFTRACE_MAX_PROBES)
  // override string_size, map_size, stack_mode and max_probes. They win over
  // the script's config block, as in bpftrace. Tests turn this off.
  bool read_environment = true;
  // Whether the kernel gives tracepoint programs their link's attach cookie
  // (Linux 5.15): asked by codegen only when a probe with several
  // tracepoints reads `probe`. Null: no.
  bool (*kernel_has_attach_cookies)() = nullptr;
};

struct ResolvedAttachPoint {
  ProbeDesc desc; // kind, display, target ... (program_name set by codegen)
  std::shared_ptr<const TracepointFormat> format; // tracepoints only
};

struct ProbeInfo {
  std::vector<ResolvedAttachPoint> points;
  std::map<std::string, Type> variables; // scratch variables of this probe
};

struct SemanticResult {
  std::vector<ProbeInfo> probes; // parallel to ast::Program::probes
  // Attach points left out of `probes` (see SkippedAttachPoint).
  std::vector<SkippedAttachPoint> skipped;
  std::vector<MapDesc> maps;     // sorted by name (bpftrace prints in order)
  std::map<std::string, size_t> map_index;
  // BEGIN statements whose work the runtime does: their entries are in
  // their MapDesc (passes/initial_entries.h); codegen skips them.
  std::set<const ast::Stmt *> initial_entry_statements;
  SemanticOptions options;
  // symbolic(): how each (tracepoint, field) is named, and the name tables.
  std::shared_ptr<printfmt::SymbolicFields> symbolic =
      std::make_shared<printfmt::SymbolicFields>();

  const MapDesc *find_map(const std::string &name) const {
    auto it = map_index.find(name);
    return it == map_index.end() ? nullptr : &maps[it->second];
  }
};

// Pass 1: turns attach point text into ProbeDescs (provider aliases, target
// syntax, periods) and loads tracepoint formats.
void resolve_attach_points(const ast::Program &program, Diagnostics &diags,
                           SemanticResult &result);

// After type checking: gives every kprobe/kretprobe/fentry/fexit attach
// point its twin of the other kind for the same function (ProbeDesc::
// fallback), so the runtime can fall back when the kernel refuses one kind.
// Runs after check_types because builtins are checked against the kind the
// user wrote; codegen emits both programs.
void add_fallback_points(SemanticResult &result);

// Pass 2: infers and checks the type of every expression, map and variable.
void check_types(ast::Program &program, Diagnostics &diags,
                 SemanticResult &result);

// What a checked kstack/ustack asks for: the `kstack` builtin (call ==
// nullptr) or a kstack(mode, limit) call.
struct StackSpec {
  uint32_t limit = kDefaultStackLimit;
  StackMode mode = StackMode::Bpftrace;
};
StackSpec stack_spec(const ast::Call *call, const SemanticOptions &options);

// Limits visible in the typed AST, checked before codegen: the number of
// attach points, unrolled code size and loops that can never end
// (passes/resource_limits.cpp).
void check_resource_limits(const ast::Program &program,
                           const SemanticResult &result, Diagnostics &diags);

// After check_types: BEGIN's constant map assignments become initial
// entries of their maps, which the runtime writes before BEGIN runs
// (passes/initial_entries.h says which).
void collect_initial_entries(const ast::Program &program,
                             SemanticResult &result);

} // namespace hvt
