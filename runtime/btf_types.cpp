#include "btf_types.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace hvt::btf {

namespace {

// Bytes after the btf_type of a type of this kind.
size_t extra_size(const btf_type &t) {
  size_t vlen = BTF_INFO_VLEN(t.info);
  switch (BTF_INFO_KIND(t.info)) {
  case BTF_KIND_INT:
  case BTF_KIND_VAR:
  case BTF_KIND_DECL_TAG:
    return 4;
  case BTF_KIND_ARRAY:
    return sizeof(btf_array);
  case BTF_KIND_STRUCT:
  case BTF_KIND_UNION:
    return vlen * sizeof(btf_member);
  case BTF_KIND_ENUM:
    return vlen * sizeof(btf_enum);
  case BTF_KIND_FUNC_PROTO:
    return vlen * sizeof(btf_param);
  case BTF_KIND_DATASEC:
    return vlen * sizeof(btf_var_secinfo);
  case BTF_KIND_ENUM64:
    return vlen * 12; // struct btf_enum64
  default:
    return 0;
  }
}

// The whole file: mapped when the kernel allows it (sysfs BTF does since
// Linux 6.16: no copy, no page-sized reads), otherwise read.
Btf::Bytes read_file(const std::string &path) {
  Btf::Bytes bytes;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return bytes;
  struct stat st;
  size_t size = fstat(fd, &st) == 0 && st.st_size > 0 ? st.st_size : 0;
  if (size) {
    void *map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map != MAP_FAILED) {
      close(fd);
      bytes.mapped = {static_cast<const char *>(map), size};
      return bytes;
    }
  }
  std::vector<char> &data = bytes.owned;
  data.resize(size ? size : 1 << 20);
  size_t used = 0;
  for (;;) {
    if (used == data.size())
      data.resize(data.size() * 2);
    ssize_t n = read(fd, data.data() + used, data.size() - used);
    if (n <= 0)
      break;
    used += n;
  }
  close(fd);
  data.resize(used);
  return bytes;
}

} // namespace

Btf::Bytes::~Bytes() {
  if (!mapped.empty())
    munmap(const_cast<char *>(mapped.data()), mapped.size());
}

Btf::Btf(const std::string &path) : bytes_(read_file(path)) {
  data_ = bytes_.mapped.empty()
              ? std::string_view(bytes_.owned.data(), bytes_.owned.size())
              : bytes_.mapped;
  btf_header header;
  if (data_.size() < sizeof(header))
    return;
  memcpy(&header, data_.data(), sizeof(header));
  if (header.magic != BTF_MAGIC || header.hdr_len > data_.size())
    return;
  size_t types = header.hdr_len + header.type_off;
  size_t strings = header.hdr_len + header.str_off;
  if (types + header.type_len > data_.size() ||
      strings + header.str_len > data_.size())
    return;
  strings_ = {data_.data() + strings, header.str_len};
  offsets_.reserve(header.type_len / 24);
  offsets_.push_back(0); // type id 0 is void
  size_t end = types + header.type_len;
  for (size_t at = types; at + sizeof(btf_type) <= end;) {
    btf_type t;
    memcpy(&t, data_.data() + at, sizeof(t));
    size_t next = at + sizeof(btf_type) + extra_size(t);
    if (next > end)
      break;
    offsets_.push_back(at);
    at = next;
  }
}

const Btf *Btf::vmlinux() {
  static const Btf btf("/sys/kernel/btf/vmlinux");
  return btf.valid() ? &btf : nullptr;
}

btf_type Btf::type(uint32_t id) const {
  btf_type t{};
  if (id > 0 && id < offsets_.size())
    memcpy(&t, data_.data() + offsets_[id], sizeof(t));
  return t;
}

std::string Btf::name(uint32_t offset) const {
  if (offset >= strings_.size())
    return "";
  return std::string(strings_.data() + offset);
}

namespace {
template <typename T> T extra(std::string_view data, size_t type_at, size_t i) {
  T value{};
  size_t at = type_at + sizeof(btf_type) + i * sizeof(T);
  if (type_at && at + sizeof(T) <= data.size())
    memcpy(&value, data.data() + at, sizeof(T));
  return value;
}
} // namespace

btf_param Btf::param(uint32_t id, size_t i) const {
  return extra<btf_param>(data_, id < offsets_.size() ? offsets_[id] : 0, i);
}

btf_member Btf::member(uint32_t id, size_t i) const {
  return extra<btf_member>(data_, id < offsets_.size() ? offsets_[id] : 0, i);
}

btf_array Btf::array(uint32_t id) const {
  return extra<btf_array>(data_, id < offsets_.size() ? offsets_[id] : 0, 0);
}

uint32_t Btf::int_encoding(uint32_t id) const {
  return extra<uint32_t>(data_, id < offsets_.size() ? offsets_[id] : 0, 0);
}

void Btf::index_structs() const {
  if (indexed_)
    return;
  indexed_ = true;
  structs_.reserve(1 << 15);
  for (uint32_t id = 1; id < offsets_.size(); ++id) {
    btf_type t = type(id);
    uint32_t k = BTF_INFO_KIND(t.info);
    if ((k != BTF_KIND_STRUCT && k != BTF_KIND_UNION) || !t.name_off)
      continue;
    // The first complete definition wins over empty duplicates.
    if (t.name_off >= strings_.size())
      continue;
    uint32_t &slot =
        (k == BTF_KIND_UNION
             ? unions_
             : structs_)[std::string_view(strings_.data() + t.name_off)];
    if (!slot || (type(slot).size == 0 && t.size != 0))
      slot = id;
  }
}

uint32_t Btf::find_struct(const std::string &name, bool is_union) const {
  index_structs();
  const auto &index = is_union ? unions_ : structs_;
  auto it = index.find(name);
  return it == index.end() ? 0 : it->second;
}

std::vector<std::string> Btf::struct_names(bool is_union) const {
  index_structs();
  std::vector<std::string> names;
  for (const auto &[name, id] : is_union ? unions_ : structs_)
    names.emplace_back(name);
  std::sort(names.begin(), names.end()); // hints the same on every run
  return names;
}

std::optional<int64_t> Btf::find_enum_value(std::string_view name) const {
  for (uint32_t id = 1; id < offsets_.size(); ++id) {
    btf_type t = type(id);
    uint32_t k = BTF_INFO_KIND(t.info);
    if (k != BTF_KIND_ENUM && k != BTF_KIND_ENUM64)
      continue;
    bool is_signed = BTF_INFO_KFLAG(t.info);
    for (size_t i = 0; i < BTF_INFO_VLEN(t.info); ++i) {
      if (k == BTF_KIND_ENUM) {
        btf_enum e = extra<btf_enum>(data_, offsets_[id], i);
        if (std::string_view(
                strings_.data() +
                std::min<size_t>(e.name_off, strings_.size() - 1)) == name)
          return is_signed ? int64_t{e.val}
                           : int64_t{static_cast<uint32_t>(e.val)};
      } else {
        btf_enum64 e = extra<btf_enum64>(data_, offsets_[id], i);
        if (std::string_view(
                strings_.data() +
                std::min<size_t>(e.name_off, strings_.size() - 1)) == name)
          return static_cast<int64_t>(uint64_t{e.val_hi32} << 32 | e.val_lo32);
      }
    }
  }
  return std::nullopt;
}

uint32_t Btf::resolve(uint32_t id) const {
  for (int depth = 0; id && depth < 32; ++depth) {
    switch (kind(id)) {
    case BTF_KIND_TYPEDEF:
    case BTF_KIND_CONST:
    case BTF_KIND_VOLATILE:
    case BTF_KIND_RESTRICT:
    case BTF_KIND_TYPE_TAG:
      id = type(id).type;
      continue;
    default:
      return id;
    }
  }
  return id;
}

uint64_t Btf::size_of(uint32_t id) const {
  id = resolve(id);
  switch (kind(id)) {
  case BTF_KIND_INT:
  case BTF_KIND_ENUM:
  case BTF_KIND_ENUM64:
  case BTF_KIND_STRUCT:
  case BTF_KIND_UNION:
  case BTF_KIND_FLOAT:
    return type(id).size;
  case BTF_KIND_PTR:
    return 8;
  case BTF_KIND_ARRAY: {
    btf_array a = array(id);
    return a.nelems * size_of(a.type);
  }
  default:
    return 0;
  }
}

std::string Btf::spell(uint32_t id) const { return spell(id, 0); }

std::string Btf::spell(uint32_t id, int depth) const {
  if (id == 0)
    return "void";
  if (id >= offsets_.size() || depth > 8)
    return "?";
  btf_type t = type(id);
  std::string n = name(t.name_off);
  switch (BTF_INFO_KIND(t.info)) {
  case BTF_KIND_PTR:
    return spell(t.type, depth + 1) + " *";
  case BTF_KIND_CONST:
    return "const " + spell(t.type, depth + 1);
  case BTF_KIND_VOLATILE:
    return "volatile " + spell(t.type, depth + 1);
  case BTF_KIND_RESTRICT:
  case BTF_KIND_TYPE_TAG:
    return spell(t.type, depth + 1);
  case BTF_KIND_STRUCT:
    return "struct " + n;
  case BTF_KIND_UNION:
    return "union " + n;
  case BTF_KIND_ENUM:
  case BTF_KIND_ENUM64:
    return "enum " + n;
  case BTF_KIND_FWD:
    return (BTF_INFO_KFLAG(t.info) ? "union " : "struct ") + n;
  case BTF_KIND_FUNC_PROTO:
    return "void (*)()";
  case BTF_KIND_ARRAY: {
    btf_array a = array(id);
    return spell(a.type, depth + 1) + "[" + std::to_string(a.nelems) + "]";
  }
  default:
    return n.empty() ? "?" : n;
  }
}

namespace {

// Member i's offset in bits and bitfield size (struct kflag: packed).
Member member_at(const Btf &btf, uint32_t struct_id, size_t i) {
  btf_member m = btf.member(struct_id, i);
  Member out;
  out.type = m.type;
  if (BTF_INFO_KFLAG(btf.type(struct_id).info)) {
    out.bit_offset = BTF_MEMBER_BIT_OFFSET(m.offset);
    out.bitfield_size = BTF_MEMBER_BITFIELD_SIZE(m.offset);
  } else {
    out.bit_offset = m.offset;
  }
  return out;
}

bool is_aggregate(const Btf &btf, uint32_t id) {
  uint32_t k = btf.kind(btf.resolve(id));
  return k == BTF_KIND_STRUCT || k == BTF_KIND_UNION;
}

} // namespace

std::optional<Member> find_member(const Btf &btf, uint32_t struct_id,
                                  std::string_view name) {
  size_t n = BTF_INFO_VLEN(btf.type(struct_id).info);
  for (size_t i = 0; i < n; ++i) {
    btf_member m = btf.member(struct_id, i);
    if (m.name_off == 0) {
      if (!is_aggregate(btf, m.type))
        continue;
      auto inner = find_member(btf, btf.resolve(m.type), name);
      if (inner) {
        inner->bit_offset += member_at(btf, struct_id, i).bit_offset;
        return inner;
      }
    } else if (btf.name(m.name_off) == name) {
      return member_at(btf, struct_id, i);
    }
  }
  return std::nullopt;
}

std::vector<std::string> member_names(const Btf &btf, uint32_t struct_id) {
  std::vector<std::string> names;
  size_t n = BTF_INFO_VLEN(btf.type(struct_id).info);
  for (size_t i = 0; i < n; ++i) {
    btf_member m = btf.member(struct_id, i);
    if (m.name_off) {
      names.push_back(btf.name(m.name_off));
    } else if (is_aggregate(btf, m.type)) {
      auto inner = member_names(btf, btf.resolve(m.type));
      names.insert(names.end(), inner.begin(), inner.end());
    }
  }
  return names;
}

} // namespace hvt::btf
