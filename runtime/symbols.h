// Kernel symbolic names: the tables a tracepoint's print format uses to name
// the values of a field (__print_symbolic, __print_flags), as the compiler
// extracted them, and how user space prints a value with them.
//
// A symbolic() value is one 64-bit word: the top 8 bits say which table
// names it (1 + its index in SymbolTables; 0: no table, print the number)
// and the low 56 bits hold the number, as the print format computed it
// (e.g. kvm_exit's VMX reason is `exit_reason & 0xffff`). Carrying the table
// in the value lets one map key hold values named by different tables: a
// probe on several tracepoints, or kvm_exit's VMX and SVM tables, chosen in
// BPF from the record's `isa` field.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace hvt {

constexpr unsigned kSymbolTableShift = 56;
constexpr uint64_t kSymbolValueMask = (uint64_t{1} << kSymbolTableShift) - 1;
constexpr size_t kMaxSymbolTables = 255;

struct SymbolTable {
  enum class Kind : uint8_t {
    Symbolic, // __print_symbolic: the name of the entry equal to the value
    Flags,    // __print_flags: names of the set bits, joined by `separator`
    Constant, // a string literal in the print format: always `constant`
  };
  Kind kind = Kind::Symbolic;
  // The number was a signed C value: it is sign-extended from 56 bits and
  // printed signed when no name matches.
  bool is_signed = false;
  std::string separator;                                 // Flags
  std::string constant;                                  // Constant
  std::vector<std::pair<uint64_t, std::string>> entries; // value/mask, name

  // The text the kernel's print format shows for `value` (the 64-bit number,
  // already sign-extended if signed). A value without a name prints as its
  // decimal number, never as an empty string.
  std::string render(uint64_t value) const;
  bool operator==(const SymbolTable &other) const;
};

struct SymbolTables {
  std::vector<SymbolTable> tables;

  // Index + 1 of `table`, adding it if no equal table exists yet; 0 when
  // there is no room left (kMaxSymbolTables).
  uint32_t intern(const SymbolTable &table);
  // The text of an encoded symbolic() value (see the top of this file).
  std::string render(uint64_t encoded) const;
  // The number an encoded value holds, sign-extended when its table says so.
  uint64_t number(uint64_t encoded) const;
};

} // namespace hvt
