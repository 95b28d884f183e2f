#include "verifier.h"

#include "elf_reader.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <sstream>

namespace hvt {

namespace {

std::string trim(const std::string &s) {
  size_t b = s.find_first_not_of(" \t\n");
  size_t e = s.find_last_not_of(" \t\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

bool starts_with(const std::string &s, const char *prefix) {
  return s.rfind(prefix, 0) == 0;
}

// "12: (79) r1 = ..." -> 12; -1 for any other line.
int instruction_index(const std::string &line) {
  size_t colon = line.find(": (");
  if (colon == std::string::npos || colon == 0 ||
      !std::all_of(line.begin(), line.begin() + colon, [](char c) {
        return isdigit(static_cast<unsigned char>(c));
      }))
    return -1;
  return std::stoi(line.substr(0, colon));
}

// "; $i++; @x[$i] = $i; @ loop.bt:4" -> 4.
uint32_t annotated_line(const std::string &line) {
  if (!starts_with(line, "; "))
    return 0;
  size_t at = line.rfind(" @ ");
  size_t colon = line.rfind(':');
  if (at == std::string::npos || colon == std::string::npos || colon < at)
    return 0;
  std::string digits = line.substr(colon + 1);
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), [](char c) {
        return isdigit(static_cast<unsigned char>(c));
      }))
    return 0;
  return static_cast<uint32_t>(std::stoul(digits));
}

template <typename T> bool read_at(std::string_view bytes, size_t at, T &out) {
  if (at > bytes.size() || bytes.size() - at < sizeof(T))
    return false;
  memcpy(&out, bytes.data() + at, sizeof(T));
  return true;
}

} // namespace

VerifierSummary summarize_verifier_log(const std::string &log) {
  static const char *bookkeeping[] = {
      "processed ",   "verification time",
      "stack depth",  "max_states_per_insn",
      "-- END PROG",  "libbpf: ",
      "Validating ",  "func#",
      "mark_precise", "; ",
  };
  std::vector<std::string> lines;
  std::stringstream in(log);
  for (std::string line; std::getline(in, line);)
    lines.push_back(trim(line));
  VerifierSummary summary;
  size_t error_at = lines.size();
  for (size_t i = lines.size(); i-- > 0;) {
    const std::string &line = lines[i];
    bool skip = line.empty();
    for (const char *prefix : bookkeeping)
      skip = skip || starts_with(line, prefix);
    if (skip)
      continue;
    summary.error = line;
    error_at = i;
    // "12: (79) r1 = ..." is the instruction the error is about.
    if (i > 0 && instruction_index(lines[i - 1]) >= 0) {
      summary.instruction = lines[i - 1];
      summary.instruction_index = instruction_index(lines[i - 1]);
    }
    break;
  }
  for (size_t i = std::min(error_at, lines.size()); i-- > 0;)
    if (uint32_t line = annotated_line(lines[i])) {
      summary.source_line = line;
      break;
    }
  if (summary.error.empty())
    summary.error = "no reason given";
  return summary;
}

std::optional<SourceLocation>
locate_instruction(const std::vector<uint8_t> &elf, const std::string &program,
                   int insn) {
  if (insn < 0)
    return std::nullopt;
  std::string error;
  auto object = ElfReader::parse(elf, error);
  if (!object)
    return std::nullopt;
  const ElfSymbol *symbol = nullptr;
  for (const auto &sym : object->symbols())
    if (sym.is_function && sym.name == program)
      symbol = &sym;
  if (!symbol)
    return std::nullopt;
  std::string section = object->section_name(symbol->section);
  uint64_t wanted = symbol->value + 8 * static_cast<uint64_t>(insn);

  // .BTF's strings hold the section names .BTF.ext refers to.
  std::string_view btf = object->section(".BTF");
  uint32_t btf_hdr_len = 0, str_off = 0, str_len = 0;
  if (!read_at(btf, 4, btf_hdr_len) || !read_at(btf, 16, str_off) ||
      !read_at(btf, 20, str_len) ||
      btf_hdr_len + uint64_t{str_off} + str_len > btf.size())
    return std::nullopt;
  std::string_view strings = btf.substr(btf_hdr_len + str_off, str_len);

  // struct btf_ext_header: magic, version, flags, hdr_len, func_info_off,
  // func_info_len, line_info_off, line_info_len.
  std::string_view ext = object->section(".BTF.ext");
  uint32_t hdr_len = 0, line_off = 0, line_len = 0;
  if (!read_at(ext, 4, hdr_len) || !read_at(ext, 16, line_off) ||
      !read_at(ext, 20, line_len))
    return std::nullopt;
  size_t at = hdr_len + line_off, end = at + line_len;
  uint32_t record_size = 0;
  if (end > ext.size() || !read_at(ext, at, record_size) || record_size < 16)
    return std::nullopt;
  at += 4;
  std::optional<SourceLocation> best;
  uint32_t best_offset = 0;
  while (at + 8 <= end) {
    uint32_t name_off = 0, count = 0;
    read_at(ext, at, name_off);
    read_at(ext, at + 4, count);
    at += 8;
    bool ours = name_off < strings.size() &&
                std::string(strings.substr(name_off).data(),
                            strnlen(strings.data() + name_off,
                                    strings.size() - name_off)) == section;
    for (uint32_t i = 0; i < count && at + record_size <= end;
         ++i, at += record_size) {
      // struct bpf_line_info: insn_off (bytes here), file_name_off,
      // line_off, line_col (line << 10 | column).
      uint32_t insn_off = 0, line_col = 0;
      read_at(ext, at, insn_off);
      read_at(ext, at + 12, line_col);
      if (!ours || insn_off < symbol->value || insn_off > wanted ||
          (best && insn_off < best_offset))
        continue;
      best_offset = insn_off;
      best = SourceLocation{line_col >> 10, line_col & 0x3ff};
    }
  }
  if (best && best->line == 0)
    return std::nullopt;
  return best;
}

} // namespace hvt
