#include "driver/pipeline.h"

#include "driver/codegen_backend.h"
#include "driver/heap_prefault.h"
#include "frontend/parser.h"
#include "frontend/preprocessor.h"
#include "passes/macros.h"
#include "timeline.h"

#include <memory>

namespace hvt {

namespace {

// What compiling kvmexits.ht writes to fresh heap pages, about; measured
// against 0.75, 1.5 and 2 MiB (docs/performance.md).
constexpr std::size_t kCompileHeapBytes = 1 << 20;

// Parse and semantic passes: false when they reported an error.
bool run_front_end(const SourceFile &source, const CompileOptions &options,
                   Diagnostics &diags, std::unique_ptr<ast::Program> &program,
                   SemanticResult &semantic) {
  auto macros = preprocess(source, diags);
  if (diags.has_errors())
    return false;
  // Directives and inactive regions are blanked in macros->text(), so
  // positions in it are positions in `source`, which diagnostics quote.
  std::optional<SourceFile> preprocessed;
  if (macros->changed())
    preprocessed.emplace(source.name(), macros->text());
  program = parse_program_here(preprocessed ? *preprocessed : source, diags);
  if (!program || diags.has_errors())
    return false;
  MacroExpansions expansions = expand_macros(*program, *macros, diags);
  if (diags.has_errors())
    return false;
  if (options.dump_ast)
    *options.dump_ast << ast::dump_ast(*program);

  semantic.options = options.semantic;
  resolve_attach_points(*program, diags, semantic);
  if (diags.has_errors())
    return false;
  check_types(*program, diags, semantic);
  add_macro_notes(diags, expansions);
  if (diags.has_errors())
    return false;
  check_resource_limits(*program, semantic, diags);
  if (diags.has_errors())
    return false;
  add_fallback_points(semantic);
  collect_initial_entries(*program, semantic);
  return true;
}

} // namespace

std::optional<CompiledProgram> compile(const SourceFile &source,
                                       const CompileOptions &options,
                                       Diagnostics &diags) {
  std::unique_ptr<ast::Program> program;
  SemanticResult semantic;
  bool front_end_ok = false;
  // --- performance: the front end runs on a thread of its own (the parser
  // needs a big stack) while this one loads the code generator (LLVM), which
  // takes about as long (docs/performance.md). The thread is started first:
  // glibc makes creating a thread wait while another thread is inside
  // dlopen(). Warming LLVM up here (compiling an empty function) was
  // measured: ~1 ms slower, as the front end no longer waits for it.
  // Once the front end is done, its thread faults in the heap pages the
  // compile is about to write (heap_prefault.h), then reads the code it is
  // about to run (warm_code_generator()), then runs the caller's
  // while_compiling with the attach points.
  HeapPrefault prefault(kCompileHeapBytes);
  // (For `afterwards`, which may outlive this frame.)
  auto will_compile = std::make_shared<bool>(false);
  auto points = std::make_shared<std::vector<ProbeDesc>>();
  with_parser_stack(
      [&] {
        timeline_mark("front-end-start");
        front_end_ok = run_front_end(source, options, diags, program, semantic);
        *will_compile = front_end_ok;
        if (front_end_ok && options.while_compiling)
          for (const ProbeInfo &probe : semantic.probes)
            for (const ResolvedAttachPoint &point : probe.points)
              points->push_back(point.desc);
        timeline_mark("front-end-done");
      },
      [] {
        timeline_mark("codegen-load-start");
        codegen_backend();
        timeline_mark("codegen-loaded");
      },
      [range = prefault.range(), will_compile, points,
       while_compiling = options.while_compiling] {
        if (!*will_compile)
          return;
        range.populate();
        warm_code_generator();
        if (while_compiling)
          while_compiling(*points);
      });
  if (!front_end_ok)
    return std::nullopt;

  timeline_mark("compile-start");
  const CodegenBackend &backend = codegen_backend();
  if (!backend.compile_to_bpf) {
    diags.error({}, backend.error).hint("rebuild or reinstall hvt");
    return std::nullopt;
  }
  auto compiled = backend.compile_to_bpf(*program, semantic, source,
                                         options.codegen, diags);
  if (compiled)
    compiled->skipped = semantic.skipped;
  return compiled;
}

} // namespace hvt
