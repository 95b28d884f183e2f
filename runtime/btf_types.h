// vmlinux's BTF (/sys/kernel/btf/vmlinux) for the compiler and the probe
// listing: a minimal reader (no libbpf) that indexes type offsets once and
// resolves names and members on demand. Used for kernel struct casts and
// member access (`(struct sock *)arg0`, `curtask->pid`) and for kernel
// function parameters (runtime/kernel_functions.h).
#pragma once

#include <linux/btf.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace hvt::btf {

class Btf {
public:
  // The file's bytes: mapped, or read when it cannot be mapped.
  struct Bytes {
    std::string_view mapped;
    std::vector<char> owned;
    Bytes() = default;
    Bytes(Bytes &&other) noexcept
        : mapped(std::exchange(other.mapped, {})),
          owned(std::move(other.owned)) {}
    Bytes &operator=(Bytes &&) = delete;
    ~Bytes();
  };

  // Reads and indexes a raw BTF file; invalid() when it is missing or bad.
  explicit Btf(const std::string &path);

  // The kernel's BTF, read on first use; nullptr when the kernel has none.
  static const Btf *vmlinux();

  bool valid() const { return offsets_.size() > 1; }
  size_t count() const { return offsets_.size(); }
  btf_type type(uint32_t id) const; // zeroed for 0 (void) and bad ids
  uint32_t kind(uint32_t id) const { return BTF_INFO_KIND(type(id).info); }
  std::string name(uint32_t offset) const;
  std::string type_name(uint32_t id) const { return name(type(id).name_off); }

  btf_param param(uint32_t id, size_t i) const;   // after a FUNC_PROTO
  btf_member member(uint32_t id, size_t i) const; // after a STRUCT/UNION
  btf_array array(uint32_t id) const;
  uint32_t int_encoding(uint32_t id) const; // the word after an INT

  // The struct (or union) named `name`, or 0. Builds a name index on the
  // first call.
  uint32_t find_struct(const std::string &name, bool is_union = false) const;
  // Every struct (or union) name, for did-you-mean hints.
  std::vector<std::string> struct_names(bool is_union = false) const;
  // The value of enumerator `name` of any enum, or nullopt. Scans every
  // enum: meant for names nothing else knows.
  std::optional<int64_t> find_enum_value(std::string_view name) const;
  // Skips typedefs, const, volatile, restrict and type tags.
  uint32_t resolve(uint32_t id) const;
  // Bytes in a value of type `id` (resolved), 0 when unknown.
  uint64_t size_of(uint32_t id) const;
  // A C spelling of type `id`: "struct sock *", "unsigned int".
  std::string spell(uint32_t id) const;

private:
  std::string spell(uint32_t id, int depth) const;
  void index_structs() const;

  Bytes bytes_;
  std::string_view data_; // bytes_, mapped or owned
  std::string_view strings_;
  std::vector<size_t> offsets_;
  mutable std::unordered_map<std::string_view, uint32_t> structs_, unions_;
  mutable bool indexed_ = false;
};

// A member found in a struct or union, searching through anonymous members
// as C does. `bit_offset` counts from the start of the outer struct.
struct Member {
  uint32_t type = 0; // as declared (not resolved)
  uint64_t bit_offset = 0;
  uint32_t bitfield_size = 0; // 0: not a bitfield
};
std::optional<Member> find_member(const Btf &btf, uint32_t struct_id,
                                  std::string_view name);
// Names of the members of a struct or union (anonymous members' own, too).
std::vector<std::string> member_names(const Btf &btf, uint32_t struct_id);

} // namespace hvt::btf
