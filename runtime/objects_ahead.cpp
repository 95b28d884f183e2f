#include "objects_ahead.h"

#include "attach.h"
#include "detach.h"
#include "timeline.h"

#include <bpf/bpf.h>
#include <unistd.h>

#include <system_error>

namespace hvt {

KernelObjectsAhead::~KernelObjectsAhead() {
  if (thread_.joinable())
    thread_.join();
  std::unique_lock<std::mutex> lock(mutex_);
  done_cv_.wait(lock, [this] {
    return maps_state_ != State::Making && events_state_ != State::Making;
  });
  for (auto &[name, fd] : maps_)
    close(fd);
  // Unused after a failed load, say: released as detached events are, as
  // closing each here would wait for the kernel to unregister it.
  std::vector<int> unused;
  for (auto &[tracepoint, fd] : events_)
    unused.push_back(fd);
  release_perf_events(unused);
}

std::vector<std::string>
KernelObjectsAhead::tracepoints_of(const std::vector<ProbeDesc> &probes) {
  std::vector<std::string> tracepoints;
  for (const ProbeDesc &probe : probes)
    if (probe.kind == ProbeKind::Tracepoint && !probe.fallback)
      tracepoints.push_back(probe.target);
  return tracepoints;
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

bool KernelObjectsAhead::start(std::vector<std::string> tracepoints,
                               size_t at_least) {
  if (tracepoints.empty() || tracepoints.size() < at_least ||
      !claim_kinds(false, true))
    return false;
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
  std::multimap<std::string, int> made_maps;
  for (const MapSpec &spec : maps) {
    bpf_map_create_opts options{};
    options.sz = sizeof(options);
    options.map_flags = spec.flags;
    int fd = bpf_map_create(static_cast<bpf_map_type>(spec.type),
                            spec.kernel_name.c_str(), spec.key_size,
                            spec.value_size, spec.max_entries, &options);
    if (fd >= 0)
      made_maps.emplace(spec.name, fd);
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

int KernelObjectsAhead::take(std::multimap<std::string, int> &made,
                             const State &state, const std::string &name) {
  std::unique_lock<std::mutex> lock(mutex_);
  done_cv_.wait(lock, [&] { return state != State::Making; });
  // Nothing is made from now on.
  if (maps_state_ == State::Idle)
    maps_state_ = State::Done;
  if (events_state_ == State::Idle)
    events_state_ = State::Done;
  auto found = made.find(name);
  if (found == made.end())
    return -1;
  int fd = found->second;
  made.erase(found);
  return fd;
}

int KernelObjectsAhead::take_map(const std::string &name) {
  return take(maps_, maps_state_, name);
}

int KernelObjectsAhead::take_perf_event(const std::string &tracepoint) {
  return take(events_, events_state_, tracepoint);
}

} // namespace hvt
