// Diagnostics engine: every pass reports problems here instead of throwing
// or exiting. A diagnostic carries a source range, a message and hints, and
// renders clang-style with the source line and an underline.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace hvt {

// 1-based line and column. Column counts bytes.
struct SourceLocation {
  uint32_t line = 0;
  uint32_t column = 0;
};

// Inclusive range: `end` is the last character covered.
struct SourceRange {
  SourceLocation begin;
  SourceLocation end;
  bool valid() const { return begin.line != 0; }
};

// A program text with its display name ("stdin" for -e, else the path).
class SourceFile {
public:
  SourceFile(std::string name, std::string text);
  const std::string &name() const { return name_; }
  const std::string &text() const { return text_; }
  // The text of 1-based line `line`, without its newline; empty if out of
  // range.
  std::string_view line(uint32_t line) const;
  uint32_t line_count() const { return line_starts_.size(); }

private:
  std::string name_;
  std::string text_;
  std::vector<size_t> line_starts_;
};

enum class Severity { Error, Warning };

struct Diagnostic {
  Severity severity = Severity::Error;
  SourceRange range;
  std::string message;
  std::vector<std::string> hints;
  // A second place that explains this one (e.g. the first, conflicting use).
  SourceRange related;
  std::string related_message;

  Diagnostic &hint(std::string text) {
    hints.push_back(std::move(text));
    return *this;
  }
  Diagnostic &note(SourceRange where, std::string text) {
    related = where;
    related_message = std::move(text);
    return *this;
  }
};

class Diagnostics {
public:
  Diagnostic &error(SourceRange range, std::string message);
  Diagnostic &warning(SourceRange range, std::string message);
  bool has_errors() const { return error_count_ > 0; }
  size_t error_count() const { return error_count_; }
  const std::vector<Diagnostic> &all() const { return list_; }
  void clear() {
    list_.clear();
    error_count_ = 0;
  }

  // Clang-style rendering of every diagnostic, in the order reported:
  //   file:L:C-C: error: message
  //   <source line>
  //       ^~~~~
  //   hint: ...
  void render(std::ostream &out, const SourceFile &file) const;
  std::string render(const SourceFile &file) const;

private:
  std::vector<Diagnostic> list_;
  size_t error_count_ = 0;
};

// Renders one diagnostic (exposed for the runtime's backend errors).
void render_diagnostic(std::ostream &out, const SourceFile &file,
                       const Diagnostic &diag);

// Edit distance suggestions for "did you mean" hints. Returns "" if nothing
// is close enough.
std::string closest_match(std::string_view word,
                          const std::vector<std::string> &candidates);

} // namespace hvt
