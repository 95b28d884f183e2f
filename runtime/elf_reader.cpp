#include "elf_reader.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>

namespace hvt {

namespace {
constexpr off_t kMaxElfSize = off_t(2) << 30;
} // namespace

std::optional<ElfReader> ElfReader::open(const std::string &path,
                                         std::string &error) {
  // Regular files of sane size only: a FIFO or /dev/zero must not hang us.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    error = std::string("cannot read '") + path + "': " + strerror(errno);
    return std::nullopt;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > kMaxElfSize) {
    ::close(fd);
    error = "'" + path + "' is not a regular file of at most 2 GiB";
    return std::nullopt;
  }
  std::vector<uint8_t> bytes(st.st_size);
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = pread(fd, bytes.data() + done, bytes.size() - done, done);
    if (n <= 0)
      break;
    done += n;
  }
  ::close(fd);
  bytes.resize(done);
  auto elf = parse(std::move(bytes), error);
  if (!elf)
    error = "'" + path + "' " + error;
  return elf;
}

std::optional<ElfReader> ElfReader::parse(std::vector<uint8_t> bytes,
                                          std::string &error) {
  ElfReader elf;
  elf.data_ = std::move(bytes);
  if (!elf.load(error))
    return std::nullopt;
  return elf;
}

std::string_view ElfReader::bytes_at(uint64_t offset, uint64_t size) const {
  if (offset > data_.size() || size > data_.size() - offset)
    return {};
  return {reinterpret_cast<const char *>(data_.data()) + offset, size};
}

bool ElfReader::load(std::string &error) {
  Elf64_Ehdr header;
  if (data_.size() < sizeof(header) ||
      memcmp(data_.data(), ELFMAG, SELFMAG) != 0) {
    error = "is not an ELF file";
    return false;
  }
  memcpy(&header, data_.data(), sizeof(header));
  if (header.e_ident[EI_CLASS] != ELFCLASS64 ||
      header.e_ident[EI_DATA] != ELFDATA2LSB ||
      header.e_shentsize != sizeof(Elf64_Shdr)) {
    error = "is not a 64-bit little-endian ELF file";
    return false;
  }
  std::string_view table =
      bytes_at(header.e_shoff, uint64_t{header.e_shnum} * sizeof(Elf64_Shdr));
  if (table.empty() && header.e_shnum) {
    error = "has a truncated section table";
    return false;
  }
  std::vector<Elf64_Shdr> raw(header.e_shnum);
  if (!raw.empty())
    memcpy(raw.data(), table.data(), table.size());
  std::string_view names;
  if (header.e_shstrndx < raw.size())
    names = bytes_at(raw[header.e_shstrndx].sh_offset,
                     raw[header.e_shstrndx].sh_size);
  auto string_at = [](std::string_view strings, uint64_t offset) {
    if (offset >= strings.size())
      return std::string();
    return std::string(
        strings.data() + offset,
        strnlen(strings.data() + offset, strings.size() - offset));
  };
  for (const auto &s : raw)
    sections_.push_back({string_at(names, s.sh_name), s.sh_type, s.sh_offset,
                         s.sh_type == SHT_NOBITS ? 0 : s.sh_size, s.sh_link,
                         s.sh_addr});

  for (uint32_t wanted : {SHT_SYMTAB, SHT_DYNSYM}) {
    for (const auto &s : sections_) {
      if (s.type != wanted || s.link >= sections_.size())
        continue;
      std::string_view syms = bytes_at(s.offset, s.size);
      const Section &strtab = sections_[s.link];
      std::string_view strings = bytes_at(strtab.offset, strtab.size);
      for (size_t at = 0; at + sizeof(Elf64_Sym) <= syms.size();
           at += sizeof(Elf64_Sym)) {
        Elf64_Sym sym;
        memcpy(&sym, syms.data() + at, sizeof(sym));
        ElfSymbol out;
        out.name = string_at(strings, sym.st_name);
        if (out.name.empty())
          continue;
        out.value = sym.st_value;
        out.size = sym.st_size;
        out.section = sym.st_shndx;
        out.is_function = ELF64_ST_TYPE(sym.st_info) == STT_FUNC;
        out.is_weak = ELF64_ST_BIND(sym.st_info) == STB_WEAK;
        out.dynamic = wanted == SHT_DYNSYM;
        symbols_.push_back(std::move(out));
      }
    }
  }
  return true;
}

std::string_view ElfReader::section(const std::string &name) const {
  for (const auto &s : sections_)
    if (s.name == name)
      return bytes_at(s.offset, s.size);
  return {};
}

std::string ElfReader::section_name(uint16_t index) const {
  return index < sections_.size() ? sections_[index].name : "";
}

std::vector<std::string> ElfReader::function_names() const {
  std::vector<std::string> names;
  for (const auto &sym : symbols_)
    if (sym.is_function && sym.section != SHN_UNDEF && sym.value != 0)
      names.push_back(sym.name.substr(0, sym.name.find('@'))); // foo@@GLIBC
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::optional<uint64_t> ElfReader::function_offset(const std::string &function,
                                                   std::string &error) const {
  for (bool dynamic : {false, true}) {
    std::optional<uint64_t> found;
    bool found_weak = false;
    for (const auto &sym : symbols_) {
      if (sym.dynamic != dynamic || !sym.is_function ||
          sym.section == SHN_UNDEF || sym.section >= sections_.size() ||
          sym.name.compare(0, function.size(), function) != 0 ||
          (sym.name.size() > function.size() &&
           sym.name[function.size()] != '@'))
        continue;
      const Section &section = sections_[sym.section];
      uint64_t offset = sym.value - section.addr + section.offset;
      if (found && *found == offset) {
        found_weak = found_weak && sym.is_weak;
        continue;
      }
      if (found) {
        if (sym.is_weak)
          continue;
        if (!found_weak) {
          error = "function '" + function + "' is defined more than once";
          return std::nullopt;
        }
      }
      found = offset;
      found_weak = sym.is_weak;
    }
    if (found)
      return found;
  }
  return std::nullopt;
}

} // namespace hvt
