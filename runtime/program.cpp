#include "program.h"

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

} // namespace hvt
