#include "driver/pipeline.h"

#include "driver/codegen_backend.h"
#include "driver/heap_prefault.h"
#include "frontend/parser.h"
#include "frontend/preprocessor.h"
#include "passes/macros.h"
#include "timeline.h"

#include <condition_variable>
#include <memory>
#include <mutex>

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

// How far the compile got, for the caller's work beside it
// (CompileOptions::while_compiling), which waits for the program's checks.
class CompileCheckpoint {
public:
  // The program passed its checks (true), or the compile ended (false);
  // only the first call counts.
  void reach(bool checked) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (state_ == State::Compiling)
      state_ = checked ? State::Checked : State::Ended;
    reached_.notify_all();
  }
  // Whether the program passed its checks, once it did or the compile ended.
  bool wait_checked() {
    std::unique_lock<std::mutex> lock(mutex_);
    reached_.wait(lock, [this] { return state_ != State::Compiling; });
    return state_ == State::Checked;
  }

private:
  enum class State { Compiling, Checked, Ended };
  std::mutex mutex_;
  std::condition_variable reached_;
  State state_ = State::Compiling;
};

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
  // about to run (warm_code_generator()), then waits for the program's
  // checks to run the work the caller's while_compiling returned.
  HeapPrefault prefault(kCompileHeapBytes);
  // (For `afterwards`, which may outlive this frame.)
  auto will_compile = std::make_shared<bool>(false);
  auto while_compiling = std::make_shared<std::function<void(bool)>>();
  auto checkpoint = std::make_shared<CompileCheckpoint>();
  bool beside = with_parser_stack(
      [&] {
        timeline_mark("front-end-start");
        front_end_ok = run_front_end(source, options, diags, program, semantic);
        *will_compile = front_end_ok;
        if (front_end_ok && options.while_compiling)
          *while_compiling = options.while_compiling(semantic);
        timeline_mark("front-end-done");
      },
      [] {
        timeline_mark("codegen-load-start");
        codegen_backend();
        timeline_mark("codegen-loaded");
      },
      [range = prefault.range(), will_compile, while_compiling, checkpoint] {
        if (!*will_compile)
          return;
        range.populate();
        warm_code_generator();
        if (*while_compiling)
          (*while_compiling)(checkpoint->wait_checked());
      });
  if (!front_end_ok)
    return std::nullopt;
  if (!beside && *while_compiling) { // no thread to run it: given up
    (*while_compiling)(false);
    *while_compiling = nullptr;
  }
  // However the compile ends, the work beside it stops waiting.
  struct EndCheckpoint {
    CompileCheckpoint &checkpoint;
    ~EndCheckpoint() { checkpoint.reach(false); }
  } end_checkpoint{*checkpoint};
  CodegenOptions codegen = options.codegen;
  if (*while_compiling)
    codegen.checked = [checkpoint] { checkpoint->reach(true); };

  timeline_mark("compile-start");
  const CodegenBackend &backend = codegen_backend();
  if (!backend.compile_to_bpf) {
    diags.error({}, backend.error).hint("rebuild or reinstall hvt");
    return std::nullopt;
  }
  auto compiled =
      backend.compile_to_bpf(*program, semantic, source, codegen, diags);
  if (compiled)
    compiled->skipped = semantic.skipped;
  return compiled;
}

} // namespace hvt
