#include "objects_ahead.h"

#include "attach.h"
#include "detach.h"
#include "timeline.h"

#include <bpf/bpf.h>
#include <unistd.h>

#include <algorithm>
#include <system_error>

namespace hvt {

KernelObjectsAhead::~KernelObjectsAhead() {
  if (thread_.joinable())
    thread_.join();
  std::unique_lock<std::mutex> lock(mutex_);
  done_cv_.wait(lock, [this] {
    return maps_state_ != State::Making && events_state_ != State::Making;
  });
  for (auto &[name, made] : maps_)
    close(made.first);
  // Unused after a failed load, say: released as detached events are, as
  // closing each here would wait for the kernel to unregister it.
  std::vector<int> unused;
  for (auto &[tracepoint, fd] : events_)
    unused.push_back(fd);
  release_perf_events(unused);
}

bool KernelObjectsAhead::opens_ahead(const ProbeDesc &point) {
  return point.kind == ProbeKind::Tracepoint && !point.fallback;
}

std::vector<MapSpec>
KernelObjectsAhead::maps_of(const std::vector<MapDesc> &maps) {
  std::vector<MapSpec> specs;
  for (const MapDesc &map : maps)
    specs.push_back({map.name, MapDesc::elf_name_of(map.name),
                     map.bpf_map_type(), map.bpf_key_size(),
                     map.bpf_value_size(), map.max_entries,
                     map.bpf_map_flags()});
  return specs;
}

void KernelObjectsAhead::make(const std::vector<MapSpec> &maps,
                              const std::vector<std::string> &tracepoints) {
  if (claim_kinds(true, true))
    make_claimed(maps, tracepoints);
}

std::function<void(bool)>
KernelObjectsAhead::claim(std::vector<MapSpec> maps,
                          std::vector<std::string> tracepoints) {
  if (!claim_kinds(true, true))
    return {};
  return [this, maps = std::move(maps),
          tracepoints = std::move(tracepoints)](bool make) {
    if (make)
      make_claimed(maps, tracepoints);
    else
      make_claimed({}, {});
  };
}

bool KernelObjectsAhead::start(const std::vector<ProbeDesc> &probes,
                               size_t at_least) {
  size_t count = std::count_if(probes.begin(), probes.end(), opens_ahead);
  if (count == 0 || count < at_least || !claim_kinds(false, true))
    return false;
  std::vector<std::string> tracepoints;
  tracepoints.reserve(count);
  for (const ProbeDesc &probe : probes)
    if (opens_ahead(probe))
      tracepoints.push_back(probe.target);
  try {
    thread_ = std::thread([this, tracepoints = std::move(tracepoints)] {
      make_claimed({}, tracepoints);
    });
  } catch (const std::system_error &) {
    // Each provider opens its own event, as without this.
    std::lock_guard<std::mutex> lock(mutex_);
    events_state_ = State::Done;
    done_cv_.notify_all();
    return false;
  }
  return true;
}

bool KernelObjectsAhead::claim_kinds(bool maps, bool events) {
  std::lock_guard<std::mutex> lock(mutex_);
  // Made, being made, or taken from already.
  if (maps_state_ != State::Idle || events_state_ != State::Idle)
    return false;
  maps_state_ = maps ? State::Making : State::Done;
  events_state_ = events ? State::Making : State::Done;
  return true;
}

void KernelObjectsAhead::make_claimed(
    const std::vector<MapSpec> &maps,
    const std::vector<std::string> &tracepoints) {
  // The maps first: the load needs them before the attach needs the events.
  std::multimap<std::string, std::pair<int, MapSpec>> made_maps;
  for (const MapSpec &spec : maps) {
    bpf_map_create_opts options{};
    options.sz = sizeof(options);
    options.map_flags = spec.flags;
    int fd = bpf_map_create(static_cast<bpf_map_type>(spec.type),
                            spec.kernel_name.c_str(), spec.key_size,
                            spec.value_size, spec.max_entries, &options);
    if (fd >= 0)
      made_maps.emplace(spec.name, std::make_pair(fd, spec));
  }
  if (!maps.empty())
    timeline_mark("maps-made");
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (maps_state_ == State::Making) {
      maps_ = std::move(made_maps);
      maps_state_ = State::Done;
      done_cv_.notify_all();
    }
  }
  std::multimap<std::string, int> opened;
  for (const std::string &tracepoint : tracepoints)
    if (int fd = open_tracepoint_event(tracepoint); fd >= 0)
      opened.emplace(tracepoint, fd);
  if (!tracepoints.empty())
    timeline_mark("tracepoints-opened");
  std::lock_guard<std::mutex> lock(mutex_);
  events_ = std::move(opened);
  events_state_ = State::Done;
  done_cv_.notify_all();
}

void KernelObjectsAhead::wait_for(std::unique_lock<std::mutex> &lock,
                                  const State &state) {
  done_cv_.wait(lock, [&] { return state != State::Making; });
  // Nothing is made from now on.
  if (maps_state_ == State::Idle)
    maps_state_ = State::Done;
  if (events_state_ == State::Idle)
    events_state_ = State::Done;
}

int KernelObjectsAhead::take_map(const MapSpec &wanted) {
  std::unique_lock<std::mutex> lock(mutex_);
  wait_for(lock, maps_state_);
  auto found = maps_.find(wanted.name);
  if (found == maps_.end())
    return -1;
  auto [fd, made] = found->second;
  maps_.erase(found);
  if (made.type == wanted.type && made.key_size == wanted.key_size &&
      made.value_size == wanted.value_size &&
      made.max_entries == wanted.max_entries && made.flags == wanted.flags)
    return fd;
  close(fd); // not the map the object defines: the load makes that one
  return -1;
}

int KernelObjectsAhead::take_perf_event(const std::string &tracepoint) {
  std::unique_lock<std::mutex> lock(mutex_);
  wait_for(lock, events_state_);
  auto found = events_.find(tracepoint);
  if (found == events_.end())
    return -1;
  int fd = found->second;
  events_.erase(found);
  return fd;
}

} // namespace hvt
