#include "types.h"

#include "symbols.h"

namespace hvt {

Type Type::integer(uint32_t bytes, bool is_signed) {
  Type t;
  t.kind = TypeKind::Integer;
  t.size = bytes;
  t.is_signed = is_signed;
  return t;
}

Type Type::string(uint32_t bytes) {
  Type t;
  t.kind = TypeKind::String;
  t.size = (bytes + 7) / 8 * 8;
  return t;
}

Type Type::of_kind(TypeKind kind, uint32_t size) {
  Type t;
  t.kind = kind;
  t.size = size;
  return t;
}

Type Type::symbolic(std::shared_ptr<const SymbolTables> symbols, uint32_t table,
                    uint64_t mask) {
  Type t = of_kind(TypeKind::Symbolic, 8);
  t.symbols = std::move(symbols);
  t.symbol_table = table;
  t.symbol_mask = table ? mask : 0;
  return t;
}

uint64_t Type::symbolic_word(uint64_t stored) const {
  if (!symbol_table)
    return stored;
  return (uint64_t{symbol_table} << kSymbolTableShift) |
         (stored & symbol_mask & kSymbolValueMask);
}

uint32_t Type::alignment() const {
  switch (kind) {
  case TypeKind::Integer:
    return size;
  case TypeKind::None:
    return 1;
  default:
    return 8;
  }
}

Type Type::tuple(std::vector<Type> fields) {
  Type t;
  t.kind = TypeKind::Tuple;
  uint32_t offset = 0;
  for (const auto &field : fields) {
    uint32_t align = field.alignment();
    offset = (offset + align - 1) / align * align;
    t.offsets.push_back(offset);
    offset += field.size;
  }
  t.size = (offset + 7) / 8 * 8;
  t.fields = std::move(fields);
  return t;
}

std::string Type::name() const {
  switch (kind) {
  case TypeKind::None:
    return "none";
  case TypeKind::Integer:
    return std::string(is_signed ? "int" : "uint") + std::to_string(size * 8);
  case TypeKind::String:
    return "string[" + std::to_string(size) + "]";
  case TypeKind::Tuple: {
    std::string out = "(";
    for (size_t i = 0; i < fields.size(); ++i)
      out += (i ? "," : "") + fields[i].name();
    return out + ")";
  }
  case TypeKind::KStack:
    return "kstack";
  case TypeKind::UStack:
    return "ustack";
  case TypeKind::Ksym:
    return "ksym";
  case TypeKind::Usym:
    return "usym";
  case TypeKind::Username:
    return "username";
  case TypeKind::Inet:
    return "inet";
  case TypeKind::Pointer:
    return "pointer";
  case TypeKind::Symbolic:
    return "symbolic";
  case TypeKind::Timestamp:
    return "timestamp";
  case TypeKind::Buffer:
    return "buffer";
  }
  return "?";
}

bool Type::operator==(const Type &other) const {
  return kind == other.kind && size == other.size &&
         is_signed == other.is_signed && is_pointer == other.is_pointer &&
         fields == other.fields && symbol_table == other.symbol_table &&
         symbol_mask == other.symbol_mask;
}

} // namespace hvt
