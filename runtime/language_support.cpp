#include "language_support.h"

#include "output.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <ctime>
#include <map>
#include <vector>

namespace hvt {

namespace {

int map_fd(bpf_object *object, const std::string &name) {
  if (name.empty())
    return -1;
  bpf_map *map = bpf_object__find_map_by_name(object, name.c_str());
  return map ? bpf_map__fd(map) : -1;
}

// BPF's ktime_get_ns() is CLOCK_MONOTONIC.
uint64_t monotonic_now_ns() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
}

} // namespace

void start_language_support(const CompiledProgram &program,
                            bpf_object *object) {
  if (int fd = map_fd(object, program.elapsed_map); fd >= 0) {
    uint32_t key = 0;
    uint64_t start = monotonic_now_ns();
    bpf_map_update_elem(fd, &key, &start, BPF_ANY);
  }
  std::map<uint32_t, int> stack_fds; // frame limit -> map fd
  for (const auto &stack_map : program.stack_maps)
    if (int fd = map_fd(object, stack_map.elf_name); fd >= 0)
      stack_fds[stack_map.limit] = fd;
  if (stack_fds.empty())
    return;
  set_stack_reader(
      [stack_fds](uint32_t limit, int64_t id, std::vector<uint64_t> &frames) {
        auto it = stack_fds.find(limit);
        if (it == stack_fds.end() || id < 0 || id > UINT32_MAX)
          return false;
        auto key = static_cast<uint32_t>(id);
        frames.assign(limit, 0);
        return bpf_map_lookup_elem(it->second, &key, frames.data()) == 0;
      });
}

std::string full_map_warning(const MapDesc &map) {
  bool percpu = map.storage == MapStorage::PercpuHash;
  return "WARNING: " + map.name + " is full (" +
         std::to_string(map.max_entries) +
         " entries): updates of new keys may have been dropped\n"
         "hint: raise the limit with let " +
         map.name + (percpu ? " = percpuhash(N)" : " = hash(N)") +
         ", config = { max_map_keys = N } or BPFTRACE_MAP_KEYS_MAX=N";
}

void finish_language_support(const CompiledProgram &program, bpf_object *object,
                             std::ostream &err) {
  set_stack_reader({});
  int saved_errno = errno; // the caller may still report a failed write
  // --- performance: programs do not count refused updates (that cost ~15
  // instructions per update); a hash map holding max_entries keys may have
  // refused some. LRU maps evict instead, arrays have every slot.
  for (const MapDesc &map : program.maps) {
    if (map.storage != MapStorage::Hash &&
        map.storage != MapStorage::PercpuHash)
      continue;
    int fd = map_fd(object, map.elf_name);
    if (fd < 0 || map.max_entries == 0)
      continue;
    std::vector<uint8_t> key(map.bpf_key_size()), next(key.size());
    uint32_t keys = 0;
    for (const void *prev = nullptr;
         keys < map.max_entries &&
         bpf_map_get_next_key(fd, prev, next.data()) == 0;
         prev = key.data(), ++keys)
      key.swap(next);
    if (keys >= map.max_entries)
      err << full_map_warning(map) << "\n";
  }
  err.flush();
  errno = saved_errno;
}

} // namespace hvt
