// ElfReader::function_offset(): where a uprobe attaches, checked against
// where the loader really mapped functions of this process, and on made-up
// symbol tables for the ambiguous cases.
#include "elf_reader.h"

#include <gtest/gtest.h>

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

extern "C" __attribute__((noinline, used)) int
hvt_elf_reader_test_function(int x) {
  asm volatile("" ::: "memory");
  return x * 3;
}

namespace hvt {
namespace {

// The file and offset in it that `address` was mapped from (/proc/self/maps).
bool file_offset_of(const void *address, std::string &file, uint64_t &offset) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  auto at = reinterpret_cast<uintptr_t>(address);
  while (std::getline(maps, line)) {
    unsigned long start = 0, end = 0, file_offset = 0;
    char path[512] = {};
    if (sscanf(line.c_str(), "%lx-%lx %*s %lx %*s %*s %511s", &start, &end,
               &file_offset, path) == 4 &&
        at >= start && at < end) {
      file = path;
      offset = at - start + file_offset;
      return true;
    }
  }
  return false;
}

TEST(ElfFunctionOffset, IsWhereTheLoaderMappedAFunction) {
  std::string file;
  uint64_t expected = 0;
  ASSERT_TRUE(file_offset_of(
      reinterpret_cast<const void *>(&hvt_elf_reader_test_function), file,
      expected));
  std::string error;
  auto elf = ElfReader::open(file, error);
  ASSERT_TRUE(elf) << error;
  auto offset = elf->function_offset("hvt_elf_reader_test_function", error);
  ASSERT_TRUE(offset) << error;
  EXPECT_EQ(*offset, expected);
  EXPECT_EQ(error, "");
}

// libc is stripped: its functions are in .dynsym, with versions
// (read@@GLIBC_2.2.5).
TEST(ElfFunctionOffset, FindsAVersionedDynamicSymbolByItsName) {
  void *read_address = dlsym(RTLD_DEFAULT, "read");
  ASSERT_NE(read_address, nullptr);
  std::string file;
  uint64_t expected = 0;
  ASSERT_TRUE(file_offset_of(read_address, file, expected));
  std::string error;
  auto elf = ElfReader::open(file, error);
  ASSERT_TRUE(elf) << error;
  auto offset = elf->function_offset("read", error);
  ASSERT_TRUE(offset) << error;
  EXPECT_EQ(*offset, expected) << file;
  // A longer name sharing the prefix is another function.
  auto readv = elf->function_offset("rea", error);
  EXPECT_FALSE(readv);
  EXPECT_EQ(error, "");
}

// A 64-bit ELF file with .text at address 0x401000 (file offset 0x1000) and
// the given symbols, all in .text.
struct Symbol {
  const char *name;
  uint64_t value;
  unsigned char bind;
  unsigned char type = STT_FUNC;
};

std::vector<uint8_t> elf_with(const std::vector<Symbol> &symbols) {
  std::string strtab(1, '\0');
  std::vector<Elf64_Sym> syms(1); // the null symbol
  for (const Symbol &s : symbols) {
    Elf64_Sym sym{};
    sym.st_name = static_cast<uint32_t>(strtab.size());
    strtab += s.name;
    strtab += '\0';
    sym.st_info = ELF64_ST_INFO(s.bind, s.type);
    sym.st_shndx = 1;
    sym.st_value = s.value;
    sym.st_size = 16;
    syms.push_back(sym);
  }
  std::string shstrtab("\0.text\0.symtab\0.strtab\0.shstrtab\0", 33);
  std::vector<uint8_t> out(0x2000, 0);
  auto append = [&](const void *data, size_t size) {
    size_t at = out.size();
    out.resize(at + size);
    memcpy(out.data() + at, data, size);
    return at;
  };
  size_t syms_at = append(syms.data(), syms.size() * sizeof(Elf64_Sym));
  size_t strtab_at = append(strtab.data(), strtab.size());
  size_t shstrtab_at = append(shstrtab.data(), shstrtab.size());
  Elf64_Shdr sections[5] = {};
  sections[1] = {1,
                 SHT_PROGBITS,
                 SHF_ALLOC | SHF_EXECINSTR,
                 0x401000,
                 0x1000,
                 0x1000,
                 0,
                 0,
                 16,
                 0};
  sections[2] = {
      7, SHT_SYMTAB,       0, 0, syms_at, syms.size() * sizeof(Elf64_Sym), 3, 1,
      8, sizeof(Elf64_Sym)};
  sections[3] = {15, SHT_STRTAB, 0, 0, strtab_at, strtab.size(), 0, 0, 1, 0};
  sections[4] = {23, SHT_STRTAB, 0, 0, shstrtab_at, shstrtab.size(),
                 0,  0,          1, 0};
  size_t sections_at = append(sections, sizeof(sections));
  Elf64_Ehdr header{};
  memcpy(header.e_ident, ELFMAG, SELFMAG);
  header.e_ident[EI_CLASS] = ELFCLASS64;
  header.e_ident[EI_DATA] = ELFDATA2LSB;
  header.e_ident[EI_VERSION] = EV_CURRENT;
  header.e_type = ET_EXEC;
  header.e_machine = EM_X86_64;
  header.e_version = EV_CURRENT;
  header.e_shoff = sections_at;
  header.e_ehsize = sizeof(Elf64_Ehdr);
  header.e_shentsize = sizeof(Elf64_Shdr);
  header.e_shnum = 5;
  header.e_shstrndx = 4;
  memcpy(out.data(), &header, sizeof(header));
  return out;
}

std::optional<uint64_t> offset_in(const std::vector<Symbol> &symbols,
                                  const std::string &function,
                                  std::string &error) {
  auto elf = ElfReader::parse(elf_with(symbols), error);
  EXPECT_TRUE(elf) << error;
  return elf ? elf->function_offset(function, error) : std::nullopt;
}

TEST(ElfFunctionOffset, AddressesBecomeFileOffsets) {
  std::string error;
  auto offset = offset_in({{"main", 0x401230, STB_GLOBAL}}, "main", error);
  ASSERT_TRUE(offset) << error;
  EXPECT_EQ(*offset, 0x1230u);
}

TEST(ElfFunctionOffset, AGlobalDefinitionWinsOverAWeakOne) {
  std::string error;
  auto offset = offset_in(
      {{"f", 0x401100, STB_WEAK}, {"f", 0x401200, STB_GLOBAL}}, "f", error);
  ASSERT_TRUE(offset) << error;
  EXPECT_EQ(*offset, 0x1200u);
  offset = offset_in({{"f", 0x401200, STB_GLOBAL}, {"f", 0x401100, STB_WEAK}},
                     "f", error);
  ASSERT_TRUE(offset) << error;
  EXPECT_EQ(*offset, 0x1200u);
}

TEST(ElfFunctionOffset, TwoDefinitionsNeitherWeakAreAnError) {
  std::string error;
  auto offset = offset_in(
      {{"f", 0x401100, STB_GLOBAL}, {"f", 0x401200, STB_LOCAL}}, "f", error);
  EXPECT_FALSE(offset);
  EXPECT_EQ(error, "function 'f' is defined more than once");
  // The same place twice (an alias) is no ambiguity.
  error.clear();
  offset = offset_in({{"f", 0x401100, STB_GLOBAL}, {"f", 0x401100, STB_LOCAL}},
                     "f", error);
  ASSERT_TRUE(offset) << error;
  EXPECT_EQ(*offset, 0x1100u);
}

TEST(ElfFunctionOffset, OnlyFunctionsCount) {
  std::string error;
  auto offset = offset_in(
      {{"data", 0x401100, STB_GLOBAL, STT_OBJECT}, {"g", 0x401200, STB_GLOBAL}},
      "data", error);
  EXPECT_FALSE(offset);
  EXPECT_EQ(error, "");
}

} // namespace
} // namespace hvt
