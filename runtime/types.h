// Value types shared by the compiler (type inference, codegen layout) and the
// runtime (decoding map keys/values and ring-buffer records). Kept free of
// LLVM and libbpf so both sides can use it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace hvt {

struct SymbolTables; // symbols.h

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
  Symbolic,  // symbolic(): a number printed with a kernel name table
  Timestamp, // strftime(): nanoseconds since boot + the format, printed as
             // local time
  Buffer,    // buf(): a length and up to `size - 8` bytes, printed with
             // non-printable bytes as \xNN (printf's %r)
};

// Layouts of the values whose text user space computes: codegen writes
// them, runtime/output.cpp reads them. Little-endian, 8-byte aligned.
//   KStack     {int64 stack id, uint32 frame limit, uint8 StackMode, pad}
//   UStack     KStack's 16 bytes, then {uint64 pid}
//   Usym       {uint64 address, uint64 pid}
//   Inet       {uint64 address family, uint8 address[16]}
//   Timestamp  {uint64 nanoseconds since boot, char strftime format[]}
//   Buffer     {uint64 length, uint8 bytes[]} (bytes past length are 0)
// A stack id is the key of the stack in the stack map holding `limit`-frame
// stacks; a negative id (the stack could not be stored) prints no frames.
enum class StackMode : uint8_t { Bpftrace, Perf, Raw };
constexpr uint32_t kKStackSize = 16;
constexpr uint32_t kUStackSize = 24;
constexpr uint32_t kUsymSize = 16;
constexpr uint32_t kInetSize = 24;
constexpr uint32_t kBufferHeader = 8;        // a Buffer's length word
constexpr uint32_t kDefaultStackLimit = 127; // bpftrace's default depth

struct Type {
  TypeKind kind = TypeKind::None;
  uint32_t size = 0; // bytes in BPF storage
  bool is_signed = false;
  // Integer only: the value is an address (a kernel struct pointer, a
  // tracepoint's pointer field, curtask). bpftrace 0.17 prints one in hex
  // as a map key (@[0xffff8881...]) and as a signed number as a value.
  bool is_pointer = false;
  std::vector<Type> fields;      // Tuple only
  std::vector<uint32_t> offsets; // Tuple only, parallel to fields
  // Symbolic only: the program's name tables (shared by every symbolic value
  // of one program, so values from different probes can share a map).
  std::shared_ptr<const SymbolTables> symbols;
  // Symbolic only. 0: the value is an encoded word (symbols.h). Otherwise
  // the value is the field as the record holds it, named by table
  // `symbol_table` (1 + index) after ANDing with `symbol_mask`: one table
  // names every value, so BPF stores no table id.
  uint32_t symbol_table = 0;
  uint64_t symbol_mask = 0;

  static Type none() { return {}; }
  static Type integer(uint32_t bytes, bool is_signed);
  static Type int64() { return integer(8, true); }
  static Type uint64() { return integer(8, false); }
  // `bytes` includes the NUL terminator; storage is padded to 8 bytes so
  // copies stay word-sized.
  static Type string(uint32_t bytes);
  static Type tuple(std::vector<Type> fields);
  static Type of_kind(TypeKind kind, uint32_t size);
  static Type symbolic(std::shared_ptr<const SymbolTables> symbols,
                       uint32_t table = 0, uint64_t mask = 0);
  // A Symbolic value as the encoded word symbols.h describes, whichever
  // form this type stores.
  uint64_t symbolic_word(uint64_t stored) const;

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
