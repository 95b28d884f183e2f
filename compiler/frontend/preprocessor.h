// The C preprocessor stage bpftrace programs may use: the first phase of
// the pipeline, before the parser.
//
// `#include`, `#define` / `#undef`, `#if` / `#ifdef` / `#ifndef` / `#elif`
// / `#else` / `#endif` (with a real `#if` expression evaluator), `#error`,
// `#warning`, `#pragma` (ignored). Directive lines and inactive regions are
// blanked in the text handed to the parser (newlines kept), so every other
// token keeps its line and column. `BPFTRACE_HAVE_BTF` is defined when the
// kernel has BTF, as in bpftrace.
//
// Headers only contribute macros (types come from BTF). They are read
// lazily: an `#include` is only checked for existence where it stands; the
// files are read the first time something needs a macro they might define
// (an `#if` after the include, or an identifier of the program that is not
// a builtin). A script without `#include` reads nothing.
//
// Object-like macros are expanded in the program by the macros pass
// (passes/macros.h), which asks expand() for an identifier's replacement.
// docs/language.md lists what is supported and how it differs from bpftrace.
#pragma once

#include "frontend/diagnostics.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace hvt {

struct PreprocessorOptions {
  // Whether BPFTRACE_HAVE_BTF is defined; unset: whether
  // /sys/kernel/btf/vmlinux exists (checked only if a directive asks).
  std::optional<bool> have_btf;
  // Where `#include <...>` searches; unset: system_include_dirs().
  std::optional<std::vector<std::string>> include_dirs;
};

struct MacroDefinition {
  std::string name;
  bool function_like = false;
  std::vector<std::string> params; // function-like only
  bool variadic = false;
  std::string body; // the replacement as written, comments removed
  // Where it was defined: a header path and line, or (file empty) the
  // script, at `range` (the name in its #define). Predefined macros have
  // file "<built-in>".
  std::string file;
  uint32_t line = 0;
  SourceRange range;

  // "defined at /usr/include/x.h:12" / "defined at line 3" / "predefined".
  std::string where() const;
};

class Preprocessed {
public:
  struct State;
  explicit Preprocessed(std::unique_ptr<State> state);
  ~Preprocessed();
  Preprocessed(const Preprocessed &) = delete;
  Preprocessed &operator=(const Preprocessed &) = delete;

  // True when the script had directives or inactive regions: the parser
  // must then read text() instead of the original.
  bool changed() const;
  // The script with directive lines and inactive regions blanked.
  const std::string &text() const;

  // The macro `name` names at the end of the script, or null. May read the
  // headers the script included.
  const MacroDefinition *find(const std::string &name);

  // The full expansion of object-like macro `name` as program text (nested
  // macros expanded, C integer suffixes dropped, character literals as
  // numbers). False with `error` when the expansion fails.
  bool expand(const std::string &name, std::string &text, std::string &error);

  // The header files read so far.
  std::vector<std::string> headers_read() const;

private:
  std::unique_ptr<State> state_;
};

// Runs the directives of `file`. Errors (with ranges in `file`) go to
// `diags`; the result is usable only when there are none.
std::unique_ptr<Preprocessed>
preprocess(const SourceFile &file, Diagnostics &diags,
           const PreprocessorOptions &options = {});

} // namespace hvt
