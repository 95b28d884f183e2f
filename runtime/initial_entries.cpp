#include "initial_entries.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>

namespace hvt {

namespace {

// Batch updates this kernel or map type does not have.
bool unsupported(int err) {
  return err == EINVAL || err == ENOTSUP || err == EOPNOTSUPP ||
         err == 524 /* ENOTSUPP, the kernel's own */;
}

} // namespace

bool write_initial_entries(const CompiledProgram &program, bpf_object *object,
                           std::string &error) {
  for (const MapDesc &map : program.maps) {
    if (map.initial_keys.empty())
      continue;
    uint32_t key_size = map.bpf_key_size(), value_size = map.bpf_value_size();
    auto total = static_cast<uint32_t>(map.initial_keys.size() / key_size);
    bpf_map *m = bpf_object__find_map_by_name(object, map.elf_name.c_str());
    int fd = m ? bpf_map__fd(m) : -1;
    if (fd < 0) {
      error = "cannot fill " + map.name + ": no such map in the BPF object";
      return false;
    }
    // --- performance: one system call for the whole table. Entries go in
    // statement order, so a key assigned twice keeps its last value.
    uint32_t count = total;
    bpf_map_batch_opts opts{};
    opts.sz = sizeof(opts);
    opts.elem_flags = BPF_ANY;
    if (bpf_map_update_batch(fd, map.initial_keys.data(),
                             map.initial_values.data(), &count, &opts) == 0)
      continue;
    int err = errno;
    // The batch stopped at entry `count` (the map is full), or never
    // started: go on element by element.
    uint32_t next = unsupported(err) || count > total ? 0 : count;
    for (uint32_t i = next; i < total; ++i) {
      if (bpf_map_update_elem(fd, &map.initial_keys[size_t{i} * key_size],
                              &map.initial_values[size_t{i} * value_size],
                              BPF_ANY) == 0)
        continue;
      if (errno == E2BIG || errno == ENOMEM || errno == ENOSPC)
        continue; // full: dropped, as BEGIN's update would have been
      error = "cannot fill " + map.name + ": " + std::strerror(errno);
      return false;
    }
  }
  return true;
}

} // namespace hvt
