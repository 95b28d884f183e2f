#include "frontend/diagnostics.h"

#include <algorithm>
#include <sstream>

namespace hvt {

SourceFile::SourceFile(std::string name, std::string text)
    : name_(std::move(name)), text_(std::move(text)) {
  line_starts_.push_back(0);
  for (size_t i = 0; i < text_.size(); ++i)
    if (text_[i] == '\n' && i + 1 < text_.size())
      line_starts_.push_back(i + 1);
}

std::string_view SourceFile::line(uint32_t line) const {
  if (line == 0 || line > line_starts_.size())
    return {};
  size_t start = line_starts_[line - 1];
  size_t end = text_.find('\n', start);
  if (end == std::string::npos)
    end = text_.size();
  std::string_view view(text_);
  view = view.substr(start, end - start);
  if (!view.empty() && view.back() == '\r')
    view.remove_suffix(1);
  return view;
}

Diagnostic &Diagnostics::error(SourceRange range, std::string message) {
  ++error_count_;
  list_.push_back(Diagnostic{Severity::Error, range, std::move(message), {}, {}, {}});
  return list_.back();
}

Diagnostic &Diagnostics::warning(SourceRange range, std::string message) {
  list_.push_back(Diagnostic{Severity::Warning, range, std::move(message), {}, {}, {}});
  return list_.back();
}

namespace {

void render_location(std::ostream &out, const SourceFile &file,
                     const SourceRange &range) {
  out << file.name();
  if (!range.valid())
    return;
  out << ':' << range.begin.line << ':' << range.begin.column;
  if (range.end.line == range.begin.line &&
      range.end.column > range.begin.column)
    out << '-' << range.end.column;
}

// Prints the source line and an underline `^~~~` below the range. Tabs in
// the source are kept in the underline's padding so columns line up.
void render_excerpt(std::ostream &out, const SourceFile &file,
                    const SourceRange &range) {
  if (!range.valid())
    return;
  std::string_view text = file.line(range.begin.line);
  out << text << '\n';
  uint32_t first = range.begin.column;
  uint32_t last = range.end.line == range.begin.line
                      ? std::max(range.end.column, first)
                      : std::max<uint32_t>(text.size(), first);
  std::string underline;
  for (uint32_t col = 1; col < first; ++col)
    underline += (col <= text.size() && text[col - 1] == '\t') ? '\t' : ' ';
  underline += '^';
  for (uint32_t col = first + 1; col <= last; ++col)
    underline += '~';
  out << underline << '\n';
}

} // namespace

void render_diagnostic(std::ostream &out, const SourceFile &file,
                       const Diagnostic &diag) {
  render_location(out, file, diag.range);
  out << (diag.severity == Severity::Error ? ": error: " : ": warning: ")
      << diag.message << '\n';
  render_excerpt(out, file, diag.range);
  if (diag.related.valid() || !diag.related_message.empty()) {
    render_location(out, file, diag.related);
    out << ": note: " << diag.related_message << '\n';
    render_excerpt(out, file, diag.related);
  }
  for (const auto &hint : diag.hints)
    out << "hint: " << hint << '\n';
}

void Diagnostics::render(std::ostream &out, const SourceFile &file) const {
  for (const auto &diag : list_)
    render_diagnostic(out, file, diag);
}

std::string Diagnostics::render(const SourceFile &file) const {
  std::ostringstream out;
  render(out, file);
  return out.str();
}

std::string closest_match(std::string_view word,
                          const std::vector<std::string> &candidates) {
  auto distance = [](std::string_view a, std::string_view b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j)
      row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
      size_t diagonal = row[0];
      row[0] = i;
      for (size_t j = 1; j <= b.size(); ++j) {
        size_t above = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                           diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
        diagonal = above;
      }
    }
    return row[b.size()];
  };
  std::string best;
  size_t best_distance = std::max<size_t>(2, word.size() / 3) + 1;
  for (const auto &candidate : candidates) {
    size_t d = distance(word, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

} // namespace hvt
