#include "attach_ahead.h"

#include "attach.h"
#include "detach.h"
#include "timeline.h"

#include <unistd.h>

#include <system_error>

namespace hvt {

PerfEventsAhead::~PerfEventsAhead() {
  if (thread_.joinable())
    thread_.join();
  std::unique_lock<std::mutex> lock(mutex_);
  opened_cv_.wait(lock, [this] { return state_ != State::Opening; });
  // Unused after a failed load, say: released as detached events are, as
  // closing each here would wait for the kernel to unregister it.
  std::vector<int> unused;
  for (auto &[tracepoint, fd] : opened_)
    unused.push_back(fd);
  release_perf_events(unused);
}

std::vector<std::string>
PerfEventsAhead::tracepoints_of(const std::vector<ProbeDesc> &probes) {
  std::vector<std::string> tracepoints;
  for (const ProbeDesc &probe : probes)
    if (probe.kind == ProbeKind::Tracepoint && !probe.fallback)
      tracepoints.push_back(probe.target);
  return tracepoints;
}

void PerfEventsAhead::open(const std::vector<std::string> &tracepoints) {
  if (claim())
    open_claimed(tracepoints);
}

bool PerfEventsAhead::start(std::vector<std::string> tracepoints,
                            size_t at_least) {
  if (tracepoints.empty() || tracepoints.size() < at_least || !claim())
    return false;
  try {
    thread_ = std::thread([this, tracepoints = std::move(tracepoints)] {
      open_claimed(tracepoints);
    });
  } catch (const std::system_error &) {
    // Each provider opens its own event, as without this.
    std::lock_guard<std::mutex> lock(mutex_);
    state_ = State::Done;
    opened_cv_.notify_all();
    return false;
  }
  return true;
}

bool PerfEventsAhead::claim() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (state_ != State::Idle)
    return false; // opened, being opened or taken from already
  state_ = State::Opening;
  return true;
}

void PerfEventsAhead::open_claimed(
    const std::vector<std::string> &tracepoints) {
  std::multimap<std::string, int> opened;
  for (const std::string &tracepoint : tracepoints)
    if (int fd = open_tracepoint_event(tracepoint); fd >= 0)
      opened.emplace(tracepoint, fd);
  if (!tracepoints.empty())
    timeline_mark("tracepoints-opened");
  std::lock_guard<std::mutex> lock(mutex_);
  opened_ = std::move(opened);
  state_ = State::Done;
  opened_cv_.notify_all();
}

int PerfEventsAhead::take(const std::string &tracepoint) {
  std::unique_lock<std::mutex> lock(mutex_);
  opened_cv_.wait(lock, [this] { return state_ != State::Opening; });
  state_ = State::Done;
  auto found = opened_.find(tracepoint);
  if (found == opened_.end())
    return -1;
  int fd = found->second;
  opened_.erase(found);
  return fd;
}

} // namespace hvt
