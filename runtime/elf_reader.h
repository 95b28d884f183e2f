// A minimal reader for 64-bit little-endian ELF files: sections and the
// symbol tables. Used to expand uprobe wildcards against a binary's
// functions, to list them (-l) and to map a verifier error back to the
// script through the BPF object's line info. No libelf: hvt needs only this.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hvt {

struct ElfSymbol {
  std::string name;
  uint64_t value = 0;
  uint64_t size = 0;
  uint16_t section = 0; // section index (0: undefined)
  bool is_function = false;
  bool is_weak = false;
  bool dynamic = false; // from .dynsym
};

class ElfReader {
public:
  // Reads a file from disk. nullopt with `error` set when it is unreadable
  // or not a 64-bit little-endian ELF file.
  static std::optional<ElfReader> open(const std::string &path,
                                       std::string &error);
  // Parses bytes already in memory (the BPF object).
  static std::optional<ElfReader> parse(std::vector<uint8_t> bytes,
                                        std::string &error);

  // The contents of the section called `name`, or empty.
  std::string_view section(const std::string &name) const;
  std::string section_name(uint16_t index) const;
  // .symtab and .dynsym, in that order (a stripped binary has only .dynsym).
  const std::vector<ElfSymbol> &symbols() const { return symbols_; }
  // Defined functions, each name once, sorted.
  std::vector<std::string> function_names() const;
  // Where `function` starts in the file (what a uprobe attaches at), found
  // as libbpf finds it: in .symtab, else in .dynsym; a versioned name
  // (read@@GLIBC_2.2.5) is its base name; a weak definition gives way to a
  // global one. nullopt when it is not defined, or (`error` set) defined at
  // two places.
  std::optional<uint64_t> function_offset(const std::string &function,
                                          std::string &error) const;

private:
  struct Section {
    std::string name;
    uint32_t type = 0;
    uint64_t offset = 0, size = 0;
    uint32_t link = 0;
    uint64_t addr = 0;
  };
  bool load(std::string &error);
  std::string_view bytes_at(uint64_t offset, uint64_t size) const;

  std::vector<uint8_t> data_;
  std::vector<Section> sections_;
  std::vector<ElfSymbol> symbols_;
};

} // namespace hvt
