// Stack and size limits of BPF programs, checked on hvt's own output.
//
// The stack check runs on the optimized IR, just before the BPF backend.
// Without lifetime markers the backend gives every alloca left after
// optimization its own frame slot, so the sum of their sizes is the frame
// the verifier will see. With them (codegen brackets each statement's
// buffers), buffers whose lifetimes do not overlap may share a slot, so the
// frame is at least the most bytes alive at any one point. Register spills
// can add a little more, and stack coloring need not reach that least
// frame; for both, the backend's own, exact check (which
// BackendDiagnostics turns into a diagnostic) has the last word.
#include "codegen/bpf_limits.h"

#include <llvm/ADT/BitVector.h>
#include <llvm/IR/CFG.h>
#include <llvm/IR/DebugLoc.h>
#include <llvm/IR/DiagnosticHandler.h>
#include <llvm/IR/DiagnosticInfo.h>
#include <llvm/IR/DiagnosticPrinter.h>
#include <llvm/IR/Function.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/IntrinsicInst.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/MathExtras.h>
#include <llvm/Support/raw_ostream.h>

#include <elf.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <tuple>

namespace hvt {

namespace {

constexpr const char *kStackHint =
    "strings, tuples and printf() arguments live on the stack: use fewer or "
    "shorter strings per probe (str(x, N) keeps N bytes), or split the work "
    "across probes";

struct Location {
  uint32_t line = 0;
  uint32_t column = 0;
  bool operator<(const Location &other) const {
    return std::tie(line, column) < std::tie(other.line, other.column);
  }
};

// Where a stack buffer is used first: the earliest script location among
// the instructions that use it, directly or through address arithmetic.
Location first_use(const llvm::AllocaInst &alloca) {
  Location best{UINT32_MAX, UINT32_MAX};
  std::vector<const llvm::Value *> work{&alloca};
  std::set<const llvm::Value *> seen{&alloca};
  while (!work.empty()) {
    const llvm::Value *value = work.back();
    work.pop_back();
    for (const llvm::User *user : value->users()) {
      if (!seen.insert(user).second)
        continue;
      const auto *inst = llvm::dyn_cast<llvm::Instruction>(user);
      if (!inst)
        continue;
      if (const llvm::DebugLoc &loc = inst->getDebugLoc(); loc && loc.getLine())
        best = std::min(best, Location{loc.getLine(), loc.getCol()});
      if (llvm::isa<llvm::GetElementPtrInst>(inst) ||
          llvm::isa<llvm::CastInst>(inst) ||
          llvm::isa<llvm::SelectInst>(inst) || llvm::isa<llvm::PHINode>(inst))
        work.push_back(inst);
    }
  }
  return best.line == UINT32_MAX ? Location{} : best;
}

struct Buffer {
  Location where;
  uint64_t bytes = 0;
};

// Lifetime markers let the backend give buffers whose lifetimes do not
// overlap the same slot, so the sum of their sizes says nothing.
bool has_lifetime_markers(const llvm::Function &function) {
  for (const auto &block : function)
    for (const auto &inst : block)
      if (const auto *intrinsic = llvm::dyn_cast<llvm::IntrinsicInst>(&inst);
          intrinsic && intrinsic->isLifetimeStartOrEnd())
        return true;
  return false;
}

uint64_t frame_bytes(const llvm::AllocaInst &alloca,
                     const llvm::DataLayout &layout) {
  std::optional<llvm::TypeSize> size = alloca.getAllocationSize(layout);
  if (!size || size->isScalable())
    return 0; // hvt allocates only fixed-size buffers
  return llvm::alignTo(size->getFixedValue(),
                       std::max<uint64_t>(alloca.getAlign().value(), 8));
}

// The buffer a lifetime marker starts (+1) or ends (-1), or 0.
int lifetime_change(const llvm::Instruction &inst,
                    const llvm::AllocaInst *&buffer) {
  const auto *intrinsic = llvm::dyn_cast<llvm::IntrinsicInst>(&inst);
  if (!intrinsic || !intrinsic->isLifetimeStartOrEnd())
    return 0;
  buffer = llvm::dyn_cast<llvm::AllocaInst>(
      intrinsic->getArgOperand(1)->stripPointerCasts());
  if (!buffer)
    return 0;
  return intrinsic->getIntrinsicID() == llvm::Intrinsic::lifetime_start ? 1
                                                                        : -1;
}

// The most stack bytes alive at one point of a function with lifetime
// markers: buffers without markers are alive throughout, the others from
// a start to an end (at a join, alive if alive on any way in, as LLVM's
// stack coloring sees them).
struct PeakUse {
  uint64_t bytes = 0;
  std::vector<Buffer> alive; // at the peak
  Location crossing;         // where more than the limit is first alive
};

PeakUse peak_stack_use(const llvm::Function &function, uint64_t limit) {
  const llvm::DataLayout &layout = function.getParent()->getDataLayout();
  std::map<const llvm::AllocaInst *, unsigned> index; // marked buffers
  std::vector<const llvm::AllocaInst *> marked;
  std::vector<uint64_t> sizes;
  std::vector<const llvm::AllocaInst *> unmarked;
  uint64_t always = 0;
  for (const auto &block : function)
    for (const auto &inst : block) {
      const llvm::AllocaInst *buffer = nullptr;
      if (lifetime_change(inst, buffer) && !index.count(buffer)) {
        index[buffer] = marked.size();
        marked.push_back(buffer);
        sizes.push_back(frame_bytes(*buffer, layout));
      }
    }
  for (const auto &block : function)
    for (const auto &inst : block)
      if (const auto *alloca = llvm::dyn_cast<llvm::AllocaInst>(&inst);
          alloca && !index.count(alloca)) {
        unmarked.push_back(alloca);
        always += frame_bytes(*alloca, layout);
      }

  // Which marked buffers are alive where each block ends.
  std::map<const llvm::BasicBlock *, llvm::BitVector> out;
  auto alive_in = [&](const llvm::BasicBlock &block) {
    llvm::BitVector in(marked.size());
    for (const llvm::BasicBlock *pred : llvm::predecessors(&block))
      if (auto it = out.find(pred); it != out.end())
        in |= it->second;
    return in;
  };
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto &block : function) {
      llvm::BitVector alive = alive_in(block);
      for (const auto &inst : block) {
        const llvm::AllocaInst *buffer = nullptr;
        if (int change = lifetime_change(inst, buffer))
          alive[index[buffer]] = change > 0;
      }
      auto [it, inserted] = out.try_emplace(&block, alive);
      if (inserted || it->second != alive) {
        it->second = alive;
        changed = true;
      }
    }
  }

  PeakUse peak;
  peak.bytes = always;
  llvm::BitVector at_peak(marked.size());
  for (const auto &block : function) {
    llvm::BitVector alive = alive_in(block);
    uint64_t bytes = always;
    for (unsigned i : alive.set_bits())
      bytes += sizes[i];
    for (const auto &inst : block) {
      const llvm::AllocaInst *buffer = nullptr;
      int change = lifetime_change(inst, buffer);
      if (!change || alive[index[buffer]] == (change > 0))
        continue;
      alive[index[buffer]] = change > 0;
      bytes = change > 0 ? bytes + sizes[index[buffer]]
                         : bytes - sizes[index[buffer]];
      if (bytes > limit && !peak.crossing.line)
        if (const llvm::DebugLoc &loc = inst.getDebugLoc();
            loc && loc.getLine())
          peak.crossing = {loc.getLine(), loc.getCol()};
      if (bytes > peak.bytes) {
        peak.bytes = bytes;
        at_peak = alive;
      }
    }
  }
  for (const auto *alloca : unmarked)
    peak.alive.push_back({first_use(*alloca), frame_bytes(*alloca, layout)});
  for (unsigned i : at_peak.set_bits())
    peak.alive.push_back({first_use(*marked[i]), sizes[i]});
  return peak;
}

std::vector<Buffer> stack_buffers(const llvm::Function &function) {
  const llvm::DataLayout &layout = function.getParent()->getDataLayout();
  std::vector<Buffer> buffers;
  for (const auto &block : function)
    for (const auto &inst : block)
      if (const auto *alloca = llvm::dyn_cast<llvm::AllocaInst>(&inst)) {
        std::optional<llvm::TypeSize> size = alloca->getAllocationSize(layout);
        if (!size || size->isScalable())
          continue; // hvt allocates only fixed-size buffers
        uint64_t bytes =
            llvm::alignTo(size->getFixedValue(),
                          std::max<uint64_t>(alloca->getAlign().value(), 8));
        buffers.push_back({first_use(*alloca), bytes});
      }
  return buffers;
}

// The statement that starts at `where`, so the diagnostic covers all of it.
const ast::Stmt *find_statement(const ast::StmtList &body, Location where) {
  for (const auto &stmt : body) {
    if (stmt->range.begin.line == where.line &&
        stmt->range.begin.column == where.column)
      return stmt.get();
    const ast::StmtList *children[2] = {nullptr, nullptr};
    switch (stmt->kind) {
    case ast::StmtKind::If:
      children[0] = &stmt->as<ast::If>()->then_body;
      children[1] = &stmt->as<ast::If>()->else_body;
      break;
    case ast::StmtKind::Unroll:
      children[0] = &stmt->as<ast::Unroll>()->body;
      break;
    case ast::StmtKind::While:
      children[0] = &stmt->as<ast::While>()->body;
      break;
    case ast::StmtKind::Block:
      children[0] = &stmt->as<ast::BlockStmt>()->body;
      break;
    default:
      break;
    }
    for (const auto *child : children)
      if (child)
        if (const ast::Stmt *found = find_statement(*child, where))
          return found;
  }
  return nullptr;
}

SourceRange range_at(Location where, const ast::Program *program,
                     size_t probe_index) {
  if (program && probe_index < program->probes.size())
    if (const ast::Stmt *stmt =
            find_statement(program->probes[probe_index].body, where))
      return stmt->range;
  SourceLocation begin{where.line, where.column};
  return {begin, begin};
}

// "line 3 (264 bytes), line 5 (80 bytes) and line 7 (16 bytes)"
std::string largest_lines(const std::vector<Buffer> &buffers) {
  std::map<uint32_t, uint64_t> by_line;
  for (const auto &buffer : buffers)
    by_line[buffer.where.line] += buffer.bytes;
  std::vector<std::pair<uint32_t, uint64_t>> lines(by_line.begin(),
                                                   by_line.end());
  std::stable_sort(
      lines.begin(), lines.end(),
      [](const auto &a, const auto &b) { return a.second > b.second; });
  lines.resize(std::min<size_t>(lines.size(), 3));
  std::string text;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0)
      text += i + 1 == lines.size() ? " and " : ", ";
    text += (lines[i].first ? "line " + std::to_string(lines[i].first)
                            : std::string("the probe itself")) +
            " (" + std::to_string(lines[i].second) + " bytes)";
  }
  return text;
}

const ProbeDesc *probe_of(const CompiledProgram &compiled,
                          llvm::StringRef function) {
  for (const auto &probe : compiled.probes)
    if (probe.program_name == function)
      return &probe;
  return nullptr;
}

void report_backend_stack_overflow(const CompiledProgram &compiled,
                                   const ast::Program *program,
                                   const std::string &function,
                                   SourceLocation where, Diagnostics &diags,
                                   uint32_t limit = kBpfStackLimit) {
  const ProbeDesc *probe = probe_of(compiled, function);
  std::string name = probe ? "'" + probe->display + "'" : function;
  SourceRange range;
  if (where.line)
    range = range_at({where.line, where.column}, program,
                     probe ? probe->probe_index : SIZE_MAX);
  else if (probe)
    range = probe->range;
  diags
      .error(range, "BPF stack limit exceeded: probe " + name +
                        " needs more than " + std::to_string(limit) +
                        " bytes of stack once compiled")
      .hint(kStackHint);
}

bool contains(const SourceRange &range, Location where) {
  Location begin{range.begin.line, range.begin.column};
  Location end{range.end.line, range.end.column};
  return range.valid() && !(where < begin) && !(end < where);
}

// The statement of `probe` (its predicate counts as one) under which most
// of `function`'s instructions were generated, and how many that is.
std::pair<SourceRange, uint64_t>
largest_statement(const llvm::Function &function, const ast::Probe &probe) {
  std::vector<SourceRange> ranges;
  if (probe.predicate)
    ranges.push_back(probe.predicate->range);
  for (const auto &stmt : probe.body)
    ranges.push_back(stmt->range);
  std::vector<uint64_t> counts(ranges.size());
  for (const auto &block : function)
    for (const auto &inst : block) {
      const llvm::DebugLoc &loc = inst.getDebugLoc();
      if (!loc)
        continue;
      Location where{loc.getLine(), loc.getCol()};
      for (size_t i = 0; i < ranges.size(); ++i)
        if (contains(ranges[i], where)) {
          ++counts[i];
          break;
        }
    }
  auto most = std::max_element(counts.begin(), counts.end());
  if (most == counts.end() || *most == 0)
    return {{}, 0};
  return {ranges[most - counts.begin()], *most};
}

} // namespace

bool check_code_size(const llvm::Module &module,
                     const CompiledProgram &compiled,
                     const ast::Program *program,
                     const SemanticResult *semantic, Diagnostics &diags,
                     uint64_t program_limit, uint64_t module_limit) {
  constexpr const char *kSmallerHint =
      "unroll fewer times (a while loop runs without copying its body), or "
      "split the work across probes";
  auto same_place = [](const SourceRange &a, const SourceRange &b) {
    return a.begin.line == b.begin.line && a.begin.column == b.begin.column;
  };
  // Every compile runs this: a pass over the functions' blocks, and the
  // programs' names only for a program over its limit.
  bool ok = true;
  uint64_t total = 0;
  std::set<size_t> reported; // probe blocks; their attach points share code
  for (const auto &function : module) {
    if (function.isDeclaration())
      continue;
    uint64_t instructions = function.getInstructionCount();
    total += instructions;
    if (instructions <= program_limit)
      continue;
    const ProbeDesc *probe = probe_of(compiled, function.getName());
    if (!probe || reported.count(probe->probe_index))
      continue;
    reported.insert(probe->probe_index);
    ok = false;
    std::pair<SourceRange, uint64_t> largest{{}, 0};
    if (program && probe->probe_index < program->probes.size())
      largest =
          largest_statement(function, program->probes[probe->probe_index]);
    diags
        .error(largest.first.valid() ? largest.first : probe->range,
               "probe '" + probe->display + "' is too large to compile: " +
                   std::to_string(instructions) + " LLVM IR instructions" +
                   (largest.first.valid()
                        ? " (" + std::to_string(largest.second) +
                              " from this statement)"
                        : std::string()) +
                   ", and the limit is " + std::to_string(program_limit))
        .hint(kSmallerHint);
  }
  if (!ok || total <= module_limit)
    return ok;
  std::string message = "this program is too large to compile: its probes "
                        "need more than " +
                        std::to_string(module_limit) +
                        " LLVM IR instructions, the limit";
  // Per attach point as written (its ProbeDescs share a place in the
  // script), keyed by its first ProbeDesc: its programs and their
  // instructions.
  std::map<const ProbeDesc *, std::pair<uint64_t, uint64_t>> by_attach_point;
  for (const auto &function : module) {
    const ProbeDesc *probe = function.isDeclaration()
                                 ? nullptr
                                 : probe_of(compiled, function.getName());
    if (!probe)
      continue;
    const ProbeDesc *first = probe;
    for (const auto &other : compiled.probes)
      if (same_place(other.range, probe->range)) {
        first = &other;
        break;
      }
    by_attach_point[first].first += 1;
    by_attach_point[first].second += function.getInstructionCount();
  }
  const ProbeDesc *widest = nullptr;
  for (const auto &[probe, size] : by_attach_point)
    if (!widest || size.second > by_attach_point[widest].second)
      widest = probe;
  if (!widest) {
    diags.error({}, message).hint(kSmallerHint);
    return false;
  }
  auto [programs, instructions] = by_attach_point[widest];
  uint64_t matches = programs;
  if (semantic && widest->probe_index < semantic->probes.size())
    matches =
        std::count_if(semantic->probes[widest->probe_index].points.begin(),
                      semantic->probes[widest->probe_index].points.end(),
                      [&](const ResolvedAttachPoint &point) {
                        return same_place(point.desc.range, widest->range);
                      });
  // The attach point as written (the wildcard, not one of its matches).
  std::string written = widest->display;
  if (program && widest->probe_index < program->probes.size())
    for (const auto &point : program->probes[widest->probe_index].attach_points)
      if (same_place(point.range, widest->range))
        written = point.raw;
  auto &error = diags.error(widest->range, message);
  if (matches > 1)
    error.hint("'" + written + "' matches " + std::to_string(matches) +
               " attach points, and each is compiled to its own program, "
               "here of ~" +
               std::to_string(instructions / programs) +
               " instructions: narrow it (hvt -l '" + written +
               "' lists them)");
  error.hint(kSmallerHint);
  return false;
}

bool check_stack_usage(const llvm::Module &module,
                       const CompiledProgram &compiled,
                       const ast::Program *program, Diagnostics &diags,
                       uint32_t limit) {
  bool ok = true;
  std::set<size_t> reported; // probe blocks; their attach points share code
  for (const auto &function : module) {
    if (function.isDeclaration())
      continue;
    const ProbeDesc *probe = probe_of(compiled, function.getName());
    if (!probe || reported.count(probe->probe_index))
      continue;
    std::vector<Buffer> buffers;
    uint64_t total = 0;
    Location crossing;
    if (has_lifetime_markers(function)) {
      PeakUse peak = peak_stack_use(function, limit);
      if (peak.bytes <= limit)
        continue;
      total = peak.bytes;
      buffers = std::move(peak.alive);
      crossing = peak.crossing;
    } else {
      buffers = stack_buffers(function);
      for (const auto &buffer : buffers)
        total += buffer.bytes;
      if (total <= limit)
        continue;
      // Point at the statement whose buffers take the probe past the limit.
      std::stable_sort(
          buffers.begin(), buffers.end(),
          [](const Buffer &a, const Buffer &b) { return a.where < b.where; });
      uint64_t running = 0;
      for (const auto &buffer : buffers) {
        running += buffer.bytes;
        if (running > limit) {
          crossing = buffer.where;
          break;
        }
      }
    }
    SourceRange range = crossing.line
                            ? range_at(crossing, program, probe->probe_index)
                            : probe->range;
    diags
        .error(range, "BPF stack limit exceeded: probe '" + probe->display +
                          "' needs " + std::to_string(total) +
                          " bytes of stack, and a BPF program may use " +
                          std::to_string(limit))
        .note(probe->range, "the largest stack buffers of this probe are on " +
                                largest_lines(buffers))
        .hint(kStackHint);
    reported.insert(probe->probe_index);
    ok = false;
  }
  return ok;
}

bool check_program_sizes(const std::vector<uint8_t> &elf,
                         const CompiledProgram &compiled, Diagnostics &diags,
                         uint64_t limit) {
  // Our own object, but read it defensively all the same.
  auto fits = [&](uint64_t offset, uint64_t size) {
    return offset <= elf.size() && size <= elf.size() - offset;
  };
  Elf64_Ehdr header;
  if (!fits(0, sizeof(header)))
    return true;
  memcpy(&header, elf.data(), sizeof(header));
  if (memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 ||
      header.e_ident[EI_CLASS] != ELFCLASS64 ||
      header.e_shentsize != sizeof(Elf64_Shdr) ||
      !fits(header.e_shoff, uint64_t{header.e_shnum} * sizeof(Elf64_Shdr)))
    return true;
  std::vector<Elf64_Shdr> sections(header.e_shnum);
  memcpy(sections.data(), elf.data() + header.e_shoff,
         sections.size() * sizeof(Elf64_Shdr));

  bool ok = true;
  std::set<size_t> reported;
  for (const auto &symtab : sections) {
    if (symtab.sh_type != SHT_SYMTAB || symtab.sh_link >= sections.size() ||
        !fits(symtab.sh_offset, symtab.sh_size))
      continue;
    const Elf64_Shdr &strtab = sections[symtab.sh_link];
    if (!fits(strtab.sh_offset, strtab.sh_size))
      continue;
    size_t count = symtab.sh_size / sizeof(Elf64_Sym);
    for (size_t i = 0; i < count; ++i) {
      Elf64_Sym symbol;
      memcpy(&symbol, elf.data() + symtab.sh_offset + i * sizeof(Elf64_Sym),
             sizeof(symbol));
      if (ELF64_ST_TYPE(symbol.st_info) != STT_FUNC ||
          symbol.st_name >= strtab.sh_size)
        continue;
      const char *start =
          reinterpret_cast<const char *>(elf.data() + strtab.sh_offset);
      std::string name(
          start + symbol.st_name,
          strnlen(start + symbol.st_name, strtab.sh_size - symbol.st_name));
      uint64_t instructions = symbol.st_size / 8;
      const ProbeDesc *probe = probe_of(compiled, name);
      if (instructions <= limit || !probe || reported.count(probe->probe_index))
        continue;
      diags
          .error(probe->range,
                 "probe '" + probe->display + "' compiles to " +
                     std::to_string(instructions) +
                     " BPF instructions, and the kernel accepts at most " +
                     std::to_string(limit) + " per program")
          .hint("unroll less, or split the work across probes");
      reported.insert(probe->probe_index);
      ok = false;
    }
  }
  return ok;
}

namespace {

struct ProblemCollector : llvm::DiagnosticHandler {
  explicit ProblemCollector(std::vector<BackendDiagnostics::Problem> &problems)
      : problems(problems) {}

  bool handleDiagnostics(const llvm::DiagnosticInfo &info) override {
    if (info.getSeverity() != llvm::DS_Error)
      return true; // warnings and remarks: nothing a user can act on
    BackendDiagnostics::Problem problem;
    llvm::raw_string_ostream text(problem.message);
    if (const auto *located =
            llvm::dyn_cast<llvm::DiagnosticInfoUnsupported>(&info)) {
      text << located->getMessage();
      problem.function = located->getFunction().getName().str();
      if (located->isLocationAvailable())
        problem.where = {located->getLocation().getLine(),
                         located->getLocation().getColumn()};
    } else {
      llvm::DiagnosticPrinterRawOStream printer(text);
      info.print(printer);
    }
    text.flush();
    problem.stack_limit =
        problem.message.find("stack limit") != std::string::npos;
    // The stack overflow is reported once per instruction past the limit.
    for (const auto &seen : problems)
      if (seen.stack_limit && problem.stack_limit &&
          seen.function == problem.function)
        return true;
    problems.push_back(std::move(problem));
    return true;
  }

  std::vector<BackendDiagnostics::Problem> &problems;
};

} // namespace

BackendDiagnostics::BackendDiagnostics(llvm::LLVMContext &context)
    : context_(context), previous_(context.getDiagnosticHandler()) {
  context_.setDiagnosticHandler(std::make_unique<ProblemCollector>(problems_));
}

BackendDiagnostics::~BackendDiagnostics() {
  context_.setDiagnosticHandler(std::move(previous_));
}

bool BackendDiagnostics::report(const CompiledProgram &compiled,
                                const ast::Program *program,
                                Diagnostics &diags) const {
  std::set<size_t> overflowed; // probe blocks; their attach points share code
  for (const auto &problem : problems_) {
    if (problem.stack_limit) {
      // A kprobe and its fentry twin overflow alike: report the probe once.
      if (const ProbeDesc *probe = probe_of(compiled, problem.function))
        if (!overflowed.insert(probe->probe_index).second)
          continue;
      report_backend_stack_overflow(compiled, program, problem.function,
                                    problem.where, diags);
      continue;
    }
    SourceRange range{problem.where, problem.where};
    diags
        .error(range, "internal error: the BPF backend cannot compile this "
                      "program: " +
                          problem.message)
        .hint("please report this with the program that caused it");
  }
  return problems_.empty();
}

} // namespace hvt
