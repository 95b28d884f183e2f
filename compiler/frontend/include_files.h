// C header files as bpftrace's preprocessor sees them: the directories an
// `#include` searches, a scanner that finds directive lines (splicing `\`
// continuations and blanking comments), and the set of files a script's
// includes can reach. The preprocessor (frontend/preprocessor.h) reads
// headers through this; the compile cache (driver/cache.cpp), which links no
// front end, records the reachable files as dependencies. Nothing here needs
// ANTLR or LLVM.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace hvt {

// The system include directories in search order, as clang searches them on
// Debian: /usr/local/include, /usr/include/<multiarch>, /usr/include (the
// multiarch tuple is the one hvt was built for). Only those that exist.
const std::vector<std::string> &system_include_dirs();

// Where `#include <name>` (angled) or `#include "name"` (quoted; first in
// `quote_dir`) is found: the path and the index in `dirs` it was found in
// (-1 for `quote_dir`). Searching starts at `dirs[first_dir]` (for
// `#include_next`). Empty path when not found or when `name` is not a
// plausible header name.
struct FoundInclude {
  std::string path;
  int dir_index = -1;
};
FoundInclude find_include(std::string_view name, bool angled,
                          const std::string &quote_dir,
                          const std::vector<std::string> &dirs,
                          size_t first_dir = 0);

// The operand of an include directive, `<name>` or `"name"`, at the start
// of `rest` (after blanks). False when it is neither (e.g. a macro name).
bool parse_include_operand(std::string_view rest, std::string &name,
                           bool &angled);

// The directory part of a path ("." when there is none).
std::string directory_of(const std::string &path);

// One preprocessor directive: its logical line with `\`-newlines spliced
// and comments replaced by one space each, starting after the `#`.
// `offsets[i]` is the byte offset in the file of `text[i]` (a comment's
// space maps to the comment's first byte). `end` is the offset just past
// the directive (its last newline excluded).
struct DirectiveLine {
  std::string text;
  std::vector<size_t> offsets;
  size_t begin = 0; // offset of the '#'
  size_t end = 0;
  uint32_t line = 0; // 1-based line of the '#'
};

// A line of code (anything not a directive) and the first word on it
// outside comments, for checks such as "a C definition in the script".
struct CodeLine {
  size_t begin = 0, end = 0; // the physical line, without its newline
  uint32_t line = 0;
  std::string_view first_word; // empty when the line starts otherwise
  size_t first_word_offset = 0;
  bool opens_brace = false; // a '{' outside comments and strings
};

// Scans C-like `text` line by line, calling `on_directive` for each
// directive and `on_code` (if set) for each other non-blank line, in order.
// A `#!` at offset 0 is neither. Comments spanning lines are handled; quotes
// ("..." and '...') never run past the end of their line. Stops early when a
// callback returns false.
void scan_lines(std::string_view text,
                const std::function<bool(const DirectiveLine &)> &on_directive,
                const std::function<bool(const CodeLine &)> &on_code = {});

// Every header file the `#include` directives of a script can reach,
// following includes inside headers whatever their conditions (so a superset
// of what the preprocessor reads), and for each header of the script that
// was not found, the paths where it was looked for. Empty when the script
// has no `#include`. Used by the compile cache.
struct IncludeClosure {
  std::vector<std::string> files;
  std::vector<std::string> missing;
};
IncludeClosure include_closure(std::string_view script_text,
                               const std::string &script_dir);

// Reads a whole file; false when it cannot be read or holds more than
// `max_bytes` (so that `#include "/proc/kcore"` cannot exhaust memory).
bool read_text_file(const std::string &path, std::string &text,
                    size_t max_bytes = SIZE_MAX);

// No header is larger (glibc's and the kernel's largest are ~300 KB): a
// larger file is read as empty.
constexpr size_t kMaxHeaderBytes = 16 << 20;

} // namespace hvt
