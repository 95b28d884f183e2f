// libFuzzer target over the whole compiler: program text in, diagnostics or
// a BPF ELF object out. Besides the sanitizers' own checks it enforces the
// compiler's contract, so a wrong answer is a crash too:
//
//  * a program compiles if and only if no error was reported;
//  * no diagnostic is an "internal error" (invalid IR, an ANTLR exception,
//    an LLVM backend failure): those are hvt bugs, not user mistakes;
//  * every diagnostic renders, and every range points into the source;
//  * a compiled ELF is one libbpf can open, with the program each attach
//    point names (points may share one) and every map the metadata names;
//  * the hand-written lexer gives the tokens the grammar's generated lexer
//    gives.
//
// The same file builds two ways (tests/fuzz/CMakeLists.txt): with clang as a
// libFuzzer binary, and with any compiler as `fuzz_replay`, which runs the
// seed corpus and every saved crash as a regression test.
#include "driver/pipeline.h"

#include "../frontend/generated_lexer.h"

#include <bpf/libbpf.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>

namespace {

[[noreturn]] void fail(const std::string &what, const std::string &detail) {
  fprintf(stderr, "compile_fuzzer: %s\n%s\n", what.c_str(), detail.c_str());
  abort();
}

bool range_inside(const hvt::SourceRange &range, const hvt::SourceFile &file) {
  if (!range.valid())
    return true;
  // A diagnostic at the end of input may sit one line past the last one
  // that ends in a newline; anything further is a bad range.
  if (range.begin.line > file.line_count() + 1)
    return false;
  if (range.begin.column == 0)
    return false;
  return range.end.line == 0 || range.end.line >= range.begin.line;
}

int silent_libbpf(enum libbpf_print_level, const char *, va_list) { return 0; }

void check_elf(const hvt::CompiledProgram &compiled, const std::string &log) {
  if (compiled.elf.size() < 4 || memcmp(compiled.elf.data(), "\177ELF", 4) != 0)
    fail("compiled program is not an ELF object", log);
  if (compiled.probes.empty())
    fail("compiled program has no probes", log);

  libbpf_set_print(silent_libbpf);
  bpf_object_open_opts opts{};
  opts.sz = sizeof(opts);
  opts.object_name = "hvt_fuzz";
  bpf_object *object =
      bpf_object__open_mem(compiled.elf.data(), compiled.elf.size(), &opts);
  if (!object)
    fail("libbpf cannot open the compiled ELF", log);
  for (const auto &probe : compiled.probes) {
    if (probe.program_name.empty()) {
      // BEGIN/END without a program: its records must be well formed (a
      // u32 length, then a record with at least its header, to the end).
      const auto &records = probe.constant_records;
      size_t at = 0;
      while (at + sizeof(uint32_t) <= records.size()) {
        uint32_t size;
        memcpy(&size, records.data() + at, sizeof(size));
        at += sizeof(size);
        if (size < sizeof(hvt::EventHeader) || size > records.size() - at)
          fail("malformed constant record", log);
        at += size;
      }
      if (at != records.size() ||
          (probe.kind != hvt::ProbeKind::Begin &&
           probe.kind != hvt::ProbeKind::End))
        fail("malformed constant records", log);
      continue;
    }
    if (!bpf_object__find_program_by_name(object, probe.program_name.c_str()))
      fail("ELF lacks program " + probe.program_name, log);
  }
  for (const auto &map : compiled.maps)
    if (!bpf_object__find_map_by_name(object, map.elf_name.c_str()))
      fail("ELF lacks map " + map.elf_name, log);
  bpf_object__close(object);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  hvt::SourceFile source(
      "fuzz.ht", std::string(reinterpret_cast<const char *>(data), size));
  hvt::Diagnostics diags;
  hvt::CompileOptions options;
  // $1 is a number and $2 a string, so both kinds of parameter get used.
  options.semantic.positional = {"42", "text"};
  // Half the inputs compile for a kernel with attach cookies (`probe` in a
  // tracepoint wildcard then shares a program), half for one without.
  if (size % 2)
    options.semantic.kernel_has_attach_cookies = [] { return true; };
  std::ostringstream ast;
  options.dump_ast = &ast;

  auto compiled = hvt::compile(source, options, diags);
  std::string log = diags.render(source);

  if (hvt::lex(source.text()) != hvt::lex_with_generated_lexer(source.text()))
    fail("lex() differs from the grammar's lexer", source.text());

  for (const auto &diag : diags.all()) {
    if (diag.message.rfind("internal ", 0) == 0)
      fail("internal error reported", log);
    if (!range_inside(diag.range, source) ||
        !range_inside(diag.related, source))
      fail("diagnostic range outside the source", log);
  }
  if (compiled && diags.has_errors())
    fail("program compiled although errors were reported", log);
  if (!compiled && !diags.has_errors())
    fail("program failed to compile without an error", log);
  if (compiled)
    check_elf(*compiled, log);
  return 0;
}
