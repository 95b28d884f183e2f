#include "symbols.h"

#include <cstdio>

namespace hvt {

namespace {

std::string number_text(uint64_t value, bool is_signed) {
  return is_signed ? std::to_string(static_cast<int64_t>(value))
                   : std::to_string(value);
}

// The kernel's trace_print_flags_seq(): entries in table order, each printed
// when all its bits are set and then cleared; leftover bits print as hex.
// Unlike the kernel, a value of 0 prints the name of a 0 entry (or "0")
// rather than nothing, so a value is never shown as an empty name.
std::string flags_text(const SymbolTable &table, uint64_t value) {
  if (value == 0) {
    for (const auto &[mask, name] : table.entries)
      if (mask == 0 && !name.empty())
        return name;
    return "0";
  }
  std::string out;
  uint64_t left = value;
  for (const auto &[mask, name] : table.entries) {
    if (mask == 0 || (left & mask) != mask)
      continue;
    if (!out.empty())
      out += table.separator;
    out += name;
    left &= ~mask;
    if (left == 0)
      break;
  }
  if (left) {
    char hex[24];
    snprintf(hex, sizeof(hex), "0x%llx", static_cast<unsigned long long>(left));
    out += (out.empty() ? "" : table.separator) + hex;
  }
  return out;
}

} // namespace

std::string SymbolTable::render(uint64_t value) const {
  switch (kind) {
  case Kind::Constant:
    return constant.empty() ? number_text(value, is_signed) : constant;
  case Kind::Flags:
    return flags_text(*this, value);
  case Kind::Symbolic:
    for (const auto &[key, name] : entries)
      if (key == value)
        return name.empty() ? number_text(value, is_signed) : name;
    return number_text(value, is_signed);
  }
  return number_text(value, is_signed);
}

bool SymbolTable::operator==(const SymbolTable &other) const {
  return kind == other.kind && is_signed == other.is_signed &&
         separator == other.separator && constant == other.constant &&
         entries == other.entries;
}

uint32_t SymbolTables::intern(const SymbolTable &table) {
  for (size_t i = 0; i < tables.size(); ++i)
    if (tables[i] == table)
      return i + 1;
  if (tables.size() >= kMaxSymbolTables)
    return 0;
  tables.push_back(table);
  return tables.size();
}

uint64_t SymbolTables::number(uint64_t encoded) const {
  uint64_t id = encoded >> kSymbolTableShift;
  uint64_t value = encoded & kSymbolValueMask;
  if (id >= 1 && id <= tables.size() && tables[id - 1].is_signed) {
    uint64_t sign = uint64_t{1} << (kSymbolTableShift - 1);
    value = (value ^ sign) - sign;
  }
  return value;
}

std::string SymbolTables::render(uint64_t encoded) const {
  uint64_t id = encoded >> kSymbolTableShift;
  uint64_t value = number(encoded);
  if (id >= 1 && id <= tables.size())
    return tables[id - 1].render(value);
  return std::to_string(value);
}

} // namespace hvt
