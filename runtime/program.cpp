#include "program.h"

#include <linux/bpf.h>

#include <cctype>

namespace hvt {

uint32_t MapDesc::bpf_key_size() const {
  uint32_t size = key.is_none() ? 8 : key.size;
  // A key-less histogram in an array: the u32 index is the bucket.
  if ((agg == AggKind::Hist || agg == AggKind::LHist) &&
      (storage == MapStorage::Array || storage == MapStorage::PercpuArray))
    return 4;
  if (agg == AggKind::Hist || agg == AggKind::LHist)
    size = (key.is_none() ? 0 : key.size) + 8;
  return size;
}

uint32_t MapDesc::bpf_value_size() const {
  switch (agg) {
  case AggKind::None:
    return (value.size + 7) / 8 * 8;
  case AggKind::Avg:
  case AggKind::Stats:
  case AggKind::Min: // {value, set}: an unset slot must not read as 0
  case AggKind::Max:
    return 16;
  default:
    return 8;
  }
}

uint32_t MapDesc::bpf_map_type() const {
  switch (storage) {
  case MapStorage::Hash:
    return BPF_MAP_TYPE_HASH;
  case MapStorage::PercpuHash:
    return BPF_MAP_TYPE_PERCPU_HASH;
  case MapStorage::LruHash:
    return BPF_MAP_TYPE_LRU_HASH;
  case MapStorage::PercpuLruHash:
    return BPF_MAP_TYPE_LRU_PERCPU_HASH;
  case MapStorage::Array:
    return BPF_MAP_TYPE_ARRAY;
  case MapStorage::PercpuArray:
    return BPF_MAP_TYPE_PERCPU_ARRAY;
  }
  return BPF_MAP_TYPE_HASH;
}

uint32_t MapDesc::bpf_map_flags() const {
  // --- performance: creating a preallocated per-CPU hash costs ~1.7 ms
  // (4096 entries, each per CPU) at every start; aggregations add keys
  // rarely, so their elements are allocated when a key first appears.
  return storage == MapStorage::PercpuHash ? BPF_F_NO_PREALLOC : 0;
}

std::string MapDesc::elf_name_of(const std::string &name) {
  return name == "@" ? "m__anon" : "m_" + bpf_identifier(name.substr(1));
}

std::string bpf_identifier(const std::string &text) {
  std::string out;
  for (char c : text)
    out += isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}

} // namespace hvt
