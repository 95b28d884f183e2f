// Tracepoints' perf events opened ahead of attaching. Setting one up costs
// the kernel ~70-200 us (it registers the tracepoint and patches its call
// site) and needs nothing from the BPF program, so it can be done while
// something else runs: the compile, on the front end's thread once the front
// end is done, or, for scripts with many tracepoints, the verifier's load
// (docs/performance.md). Attaching then only links each loaded program to
// its event.
#pragma once

#include "program.h"

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace hvt {

class PerfEventsAhead {
public:
  PerfEventsAhead() = default;
  PerfEventsAhead(const PerfEventsAhead &) = delete;
  PerfEventsAhead &operator=(const PerfEventsAhead &) = delete;
  // Waits for an open in progress, then closes every event nobody took.
  ~PerfEventsAhead();

  // The tracepoints ("category:name") of `probes` worth opening ahead: the
  // attach points of kind Tracepoint, fallbacks left out.
  static std::vector<std::string>
  tracepoints_of(const std::vector<ProbeDesc> &probes);

  // Opens the perf event of each of `tracepoints` on this thread. Does
  // nothing when events were opened, or taken, already: the first call wins.
  void open(const std::vector<std::string> &tracepoints);

  // open(), on a thread of its own started now, when there are at least
  // `at_least` tracepoints (below that, starting the thread costs more than
  // it saves). False when nothing was started.
  bool start(std::vector<std::string> tracepoints, size_t at_least);

  // The perf event opened for `tracepoint`, now owned by the caller, or -1
  // when none was (not asked for, or the kernel refused: the provider then
  // opens it itself, and explains a failure). Waits for an open in
  // progress; once called, later open() calls do nothing.
  int take(const std::string &tracepoint);

private:
  // Idle -> Opening by the first open() or start(); Done once opened, or
  // once take() was called while Idle.
  enum class State { Idle, Opening, Done };
  // Moves Idle to Opening; false in any other state.
  bool claim();
  // Opens them, then moves Opening to Done.
  void open_claimed(const std::vector<std::string> &tracepoints);

  std::mutex mutex_;
  std::condition_variable opened_cv_;
  State state_ = State::Idle;
  std::multimap<std::string, int> opened_; // a tracepoint may repeat
  std::thread thread_;
};

} // namespace hvt
