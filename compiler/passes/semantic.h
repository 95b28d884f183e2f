// Results of the semantic passes: resolved attach points, map and variable
// symbols. Codegen reads these alongside the (now typed) AST.
#pragma once

#include "frontend/ast.h"
#include "frontend/diagnostics.h"
#include "passes/tracepoint_format.h"
#include "program.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace hvt {

struct SemanticOptions {
  std::vector<std::string> positional; // $1..$N
  uint32_t string_size = 64;           // str() and __data_loc reads
  uint32_t map_size = 4096;            // default max_entries
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
  std::vector<MapDesc> maps;     // sorted by name (bpftrace prints in order)
  std::map<std::string, size_t> map_index;
  SemanticOptions options;

  const MapDesc *find_map(const std::string &name) const {
    auto it = map_index.find(name);
    return it == map_index.end() ? nullptr : &maps[it->second];
  }
};

// Pass 1: turns attach point text into ProbeDescs (provider aliases, target
// syntax, periods) and loads tracepoint formats.
void resolve_attach_points(const ast::Program &program, Diagnostics &diags,
                           SemanticResult &result);

// Pass 2: infers and checks the type of every expression, map and variable.
void check_types(ast::Program &program, Diagnostics &diags,
                 SemanticResult &result);

} // namespace hvt
