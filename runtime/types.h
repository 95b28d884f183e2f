// Value types shared by the compiler (type inference, codegen layout) and the
// runtime (decoding map keys/values and ring-buffer records). Kept free of
// LLVM and libbpf so both sides can use it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hvt {

enum class TypeKind : uint8_t {
  None,      // no value (statements, void calls)
  Integer,   // int8..int64 / uint8..uint64
  String,    // NUL-padded char array of `size` bytes
  Tuple,     // fields laid out at `offsets`
  KStack,    // kernel stack id (int64) printed symbolized
  UStack,    // user stack id (int64) printed symbolized
  Ksym,      // kernel address printed as symbol
  Usym,      // user address printed as symbol (plus pid)
  Username,  // uid printed as user name
  Inet,      // ntop(): family + 16 address bytes
  Pointer,   // context pointer (args, curtask): only in probes
};

struct Type {
  TypeKind kind = TypeKind::None;
  uint32_t size = 0; // bytes in BPF storage
  bool is_signed = false;
  std::vector<Type> fields;      // Tuple only
  std::vector<uint32_t> offsets; // Tuple only, parallel to fields

  static Type none() { return {}; }
  static Type integer(uint32_t bytes, bool is_signed);
  static Type int64() { return integer(8, true); }
  static Type uint64() { return integer(8, false); }
  // `bytes` includes the NUL terminator; storage is padded to 8 bytes so
  // copies stay word-sized.
  static Type string(uint32_t bytes);
  static Type tuple(std::vector<Type> fields);
  static Type of_kind(TypeKind kind, uint32_t size);

  bool is_none() const { return kind == TypeKind::None; }
  bool is_integer() const { return kind == TypeKind::Integer; }
  bool is_string() const { return kind == TypeKind::String; }
  bool is_tuple() const { return kind == TypeKind::Tuple; }
  uint32_t alignment() const;

  // bpftrace's spelling: "int64", "uint8", "string[16]", "(int64,string[8])".
  std::string name() const;
  bool operator==(const Type &other) const;
  bool operator!=(const Type &other) const { return !(*this == other); }
};

} // namespace hvt
