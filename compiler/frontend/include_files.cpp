#include "frontend/include_files.h"

#include <algorithm>
#include <deque>
#include <fstream>
#include <set>
#include <sstream>

#include <sys/stat.h>

namespace hvt {
namespace {

// Debian's multiarch tuple for the architecture hvt was built for: the
// headers of that architecture are the ones whose macros match its kernel.
constexpr const char *kMultiarch =
#if defined(__x86_64__)
    "x86_64-linux-gnu";
#elif defined(__aarch64__)
    "aarch64-linux-gnu";
#elif defined(__i386__)
    "i386-linux-gnu";
#elif defined(__arm__)
    "arm-linux-gnueabihf";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    "powerpc64le-linux-gnu";
#elif defined(__s390x__)
    "s390x-linux-gnu";
#elif defined(__riscv) && __riscv_xlen == 64
    "riscv64-linux-gnu";
#else
    "";
#endif

// Bounds on what the closure follows, so that a pathological tree of
// headers cannot make the cache slow.
constexpr size_t kMaxClosureFiles = 2000;

bool is_regular_file(const std::string &path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

bool is_word_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool is_word_char(char c) { return is_word_start(c) || (c >= '0' && c <= '9'); }

// Skips a quoted literal starting at `text[i]` (the quote); stops at its
// closing quote or before the end of the line.
size_t skip_quoted(std::string_view text, size_t i) {
  char quote = text[i++];
  while (i < text.size() && text[i] != '\n') {
    if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] != '\n') {
      i += 2;
      continue;
    }
    if (text[i++] == quote)
      break;
  }
  return i;
}

bool is_splice(std::string_view text, size_t i, size_t &length) {
  if (text[i] != '\\')
    return false;
  if (i + 1 < text.size() && text[i + 1] == '\n')
    length = 2;
  else if (i + 2 < text.size() && text[i + 1] == '\r' && text[i + 2] == '\n')
    length = 3;
  else
    return false;
  return true;
}

// Reads the directive starting at the '#' at `hash`; advances `line` past
// the newlines it spans.
DirectiveLine read_directive(std::string_view text, size_t hash,
                             uint32_t &line) {
  DirectiveLine d;
  d.begin = hash;
  d.line = line;
  size_t j = hash + 1;
  auto add = [&](char c, size_t offset) {
    d.text += c;
    d.offsets.push_back(offset);
  };
  while (j < text.size() && text[j] != '\n') {
    size_t splice = 0;
    if (is_splice(text, j, splice)) {
      j += splice;
      ++line;
      continue;
    }
    if (text.compare(j, 2, "/*") == 0) {
      size_t close = text.find("*/", j + 2);
      size_t stop = close == std::string_view::npos ? text.size() : close + 2;
      line += std::count(text.begin() + j, text.begin() + stop, '\n');
      add(' ', j);
      j = stop;
      continue;
    }
    if (text.compare(j, 2, "//") == 0) {
      while (j < text.size() && text[j] != '\n')
        ++j;
      break;
    }
    if (text[j] == '"' || text[j] == '\'') {
      size_t stop = skip_quoted(text, j);
      for (; j < stop; ++j)
        add(text[j], j);
      continue;
    }
    add(text[j], j);
    ++j;
  }
  d.end = j;
  if (!d.text.empty() && d.text.back() == '\r') {
    d.text.pop_back();
    d.offsets.pop_back();
  }
  return d;
}

// The operand of `include` / `include_next` in a directive's text.
struct IncludeDirective {
  bool next = false;
  std::string name;
  bool angled = false;
};

bool parse_include(const std::string &text, IncludeDirective &out) {
  size_t i = 0;
  while (i < text.size() && is_space(text[i]))
    ++i;
  size_t word = i;
  while (i < text.size() && is_word_char(text[i]))
    ++i;
  std::string_view name(text.data() + word, i - word);
  if (name != "include" && name != "include_next")
    return false;
  out.next = name == "include_next";
  std::string_view rest(text);
  rest.remove_prefix(i);
  return parse_include_operand(rest, out.name, out.angled);
}

} // namespace

bool parse_include_operand(std::string_view rest, std::string &name,
                           bool &angled) {
  size_t i = 0;
  while (i < rest.size() && is_space(rest[i]))
    ++i;
  if (i == rest.size() || (rest[i] != '<' && rest[i] != '"'))
    return false;
  angled = rest[i] == '<';
  size_t close = rest.find(angled ? '>' : '"', i + 1);
  if (close == std::string_view::npos || close == i + 1)
    return false;
  name = std::string(rest.substr(i + 1, close - i - 1));
  return true;
}

const std::vector<std::string> &system_include_dirs() {
  static const std::vector<std::string> dirs = [] {
    std::vector<std::string> candidates = {"/usr/local/include"};
    if (*kMultiarch)
      candidates.push_back(std::string("/usr/include/") + kMultiarch);
    candidates.push_back("/usr/include");
    std::vector<std::string> found;
    for (auto &dir : candidates) {
      struct stat st;
      if (stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
        found.push_back(dir);
    }
    return found;
  }();
  return dirs;
}

FoundInclude find_include(std::string_view name, bool angled,
                          const std::string &quote_dir,
                          const std::vector<std::string> &dirs,
                          size_t first_dir) {
  if (name.empty() || name.find('\0') != std::string_view::npos)
    return {};
  if (name.front() == '/') {
    std::string path(name);
    return is_regular_file(path) ? FoundInclude{path, -1} : FoundInclude{};
  }
  if (!angled && first_dir == 0) {
    std::string path = quote_dir + "/" + std::string(name);
    if (is_regular_file(path))
      return {path, -1};
  }
  for (size_t i = first_dir; i < dirs.size(); ++i) {
    std::string path = dirs[i] + "/" + std::string(name);
    if (is_regular_file(path))
      return {path, static_cast<int>(i)};
  }
  return {};
}

std::string directory_of(const std::string &path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos)
    return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

void scan_lines(std::string_view text,
                const std::function<bool(const DirectiveLine &)> &on_directive,
                const std::function<bool(const CodeLine &)> &on_code) {
  size_t pos = 0;
  uint32_t line = 1;
  bool in_comment = false;
  if (text.compare(0, 2, "#!") == 0) { // the shebang: neither kind of line
    pos = std::min(text.find('\n'), text.size());
    if (pos < text.size()) {
      ++pos;
      ++line;
    }
  }
  while (pos < text.size()) {
    size_t i = pos;
    if (!in_comment) {
      while (i < text.size() && is_space(text[i]))
        ++i;
      if (i < text.size() && text[i] == '#') {
        DirectiveLine d = read_directive(text, i, line);
        if (!on_directive(d))
          return;
        pos = d.end;
        if (pos < text.size()) {
          ++pos; // the newline
          ++line;
        }
        continue;
      }
    }
    CodeLine code;
    code.begin = pos;
    code.line = line;
    bool blank = true;
    size_t j = pos;
    while (j < text.size() && text[j] != '\n') {
      if (in_comment) {
        if (text.compare(j, 2, "*/") == 0) {
          in_comment = false;
          j += 2;
        } else {
          ++j;
        }
        continue;
      }
      char c = text[j];
      if (text.compare(j, 2, "/*") == 0) {
        in_comment = true;
        j += 2;
        continue;
      }
      if (text.compare(j, 2, "//") == 0) {
        while (j < text.size() && text[j] != '\n')
          ++j;
        break;
      }
      if (is_space(c)) {
        ++j;
        continue;
      }
      if (blank) {
        blank = false;
        if (is_word_start(c)) {
          size_t k = j;
          while (k < text.size() && is_word_char(text[k]))
            ++k;
          code.first_word = text.substr(j, k - j);
          code.first_word_offset = j;
        }
      }
      if (c == '"' || c == '\'') {
        j = skip_quoted(text, j);
        continue;
      }
      code.opens_brace |= c == '{';
      ++j;
    }
    code.end = j;
    if (!blank && on_code && !on_code(code))
      return;
    pos = j < text.size() ? j + 1 : j;
    ++line;
  }
}

bool read_text_file(const std::string &path, std::string &text,
                    size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return false;
  text.clear();
  char buffer[65536];
  while (in) {
    in.read(buffer, sizeof(buffer));
    text.append(buffer, static_cast<size_t>(in.gcount()));
    if (text.size() > max_bytes)
      return false;
  }
  return !in.bad();
}

IncludeClosure include_closure(std::string_view script_text,
                               const std::string &script_dir) {
  IncludeClosure closure;
  if (script_text.find("include") == std::string_view::npos)
    return closure;
  const auto &dirs = system_include_dirs();
  std::set<std::string> seen, missing;
  struct Pending {
    std::string path;
    int dir_index;
  };
  std::deque<Pending> queue;

  // Follows the includes of one file (`dir_index`: where it was found).
  auto follow = [&](std::string_view text, const std::string &quote_dir,
                    int dir_index) {
    scan_lines(text, [&](const DirectiveLine &d) {
      IncludeDirective include;
      if (!parse_include(d.text, include))
        return true;
      size_t first = include.next ? static_cast<size_t>(dir_index + 1) : 0;
      FoundInclude found =
          find_include(include.name, include.angled, quote_dir, dirs, first);
      if (found.path.empty()) {
        if (!include.angled && !include.next)
          missing.insert(quote_dir + "/" + include.name);
        for (size_t i = first; i < dirs.size(); ++i)
          missing.insert(dirs[i] + "/" + include.name);
      } else if (seen.size() < kMaxClosureFiles &&
                 seen.insert(found.path).second) {
        queue.push_back({found.path, found.dir_index});
      }
      return true;
    });
  };

  follow(script_text, script_dir, -1);
  while (!queue.empty()) {
    Pending next = std::move(queue.front());
    queue.pop_front();
    std::string text;
    if (read_text_file(next.path, text, kMaxHeaderBytes))
      follow(text, directory_of(next.path), next.dir_index);
  }
  closure.files.assign(seen.begin(), seen.end());
  closure.missing.assign(missing.begin(), missing.end());
  return closure;
}

} // namespace hvt
