#include "language_support.h"

#include "output.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <ctime>
#include <map>

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

std::string dropped_updates_warning(const MapDesc &map, uint64_t dropped) {
  bool array = map.storage == MapStorage::Array ||
               map.storage == MapStorage::PercpuArray;
  return "WARNING: " + map.name + ": " + std::to_string(dropped) + " update" +
         (dropped == 1 ? "" : "s") +
         " dropped: " + (array ? "index out of range" : "the map is full") +
         " (max " + std::to_string(map.max_entries) + " entries)\n" +
         (array ? "hint: size the array for every index it is given, e.g. "
                  "let " + map.name + " = percpuarray(N)"
                : "hint: raise the limit with let " + map.name +
                      " = hash(N), config = { max_map_keys = N } or "
                      "BPFTRACE_MAP_KEYS_MAX=N");
}

void finish_language_support(const CompiledProgram &program, bpf_object *object,
                             std::ostream &err) {
  set_stack_reader({});
  int fd = map_fd(object, program.dropped_updates_map);
  if (fd < 0)
    return;
  int ncpus = libbpf_num_possible_cpus();
  if (ncpus <= 0)
    return;
  std::vector<uint64_t> per_cpu(static_cast<size_t>(ncpus));
  bool any_full = false; // a hash map, which a larger size would fix
  for (uint32_t index = 0; index < program.maps.size(); ++index) {
    if (bpf_map_lookup_elem(fd, &index, per_cpu.data()) != 0)
      continue;
    uint64_t dropped = 0;
    for (uint64_t n : per_cpu)
      dropped += n;
    if (!dropped)
      continue;
    const MapDesc &map = program.maps[index];
    err << dropped_updates_warning(map, dropped) << "\n";
    any_full = any_full || (map.storage != MapStorage::Array &&
                            map.storage != MapStorage::PercpuArray);
  }
  if (any_full)
    err << "hint: raise the limit with config = { max_map_keys = N } (or "
           "BPFTRACE_MAP_KEYS_MAX), or declare the map with a size: "
           "let @name = hash(N);\n";
  err.flush();
}

} // namespace hvt
