// Kernel objects a run needs that do not depend on its BPF programs, made
// ahead of the load while something else runs: the maps the code generator
// defines for the script's maps, and the tracepoints' perf events (each costs
// the kernel ~70-200 us: it registers the tracepoint and patches its call
// site). A compiling run makes both on the front end's thread while the
// backend emits, once the program passed its checks (a rejected program
// reaches no kernel); a cached run with many tracepoints opens their events
// on a thread of its own while the programs load (docs/performance.md). The
// load then adopts the maps, and attaching only links each program to its
// event.
#pragma once

#include "program.h"

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace hvt {

// A BPF map as the code generator defines it for a MapDesc.
struct MapSpec {
  std::string name;        // MapDesc::name: "@x"
  std::string kernel_name; // MapDesc::elf_name_of(name)
  uint32_t type = 0, key_size = 0, value_size = 0, max_entries = 0, flags = 0;
};

class KernelObjectsAhead {
public:
  KernelObjectsAhead() = default;
  KernelObjectsAhead(const KernelObjectsAhead &) = delete;
  KernelObjectsAhead &operator=(const KernelObjectsAhead &) = delete;
  // Waits for work in progress, then lets go of everything nobody took.
  ~KernelObjectsAhead();

  // Whether the perf event of `point` is opened ahead: a tracepoint (its
  // target, "category:name"), not a fallback.
  static bool opens_ahead(const ProbeDesc &point);
  static std::vector<MapSpec> maps_of(const std::vector<MapDesc> &maps);

  // Creates the maps, then opens the tracepoints' perf events, on this
  // thread. Does nothing when something was made, or taken, already: the
  // first call wins.
  void make(const std::vector<MapSpec> &maps,
            const std::vector<std::string> &tracepoints);

  // make() in two steps: claims the making now, so that take_map() and
  // take_perf_event() wait for it from now on, and returns the work, to be
  // run exactly once, later, on any thread: work(true) makes them,
  // work(false) gives up (nothing is made). Empty when something was made,
  // or taken, already. The work uses this object, whose destructor waits
  // until the work has run.
  std::function<void(bool)> claim(std::vector<MapSpec> maps,
                                  std::vector<std::string> tracepoints);

  // Opens the perf events of `probes` that opens_ahead() (no maps) on a
  // thread of its own started now, when there are at least `at_least` of
  // them (below that, starting the thread costs more than it saves) and
  // nothing was made or taken yet. False when nothing was started.
  bool start(const std::vector<ProbeDesc> &probes, size_t at_least);

  // The map made for script map `wanted.name`, when it is the map `wanted`
  // describes (type, sizes, entries, flags; otherwise it is closed), or the
  // perf event opened for `tracepoint`, now owned by the caller; -1 when
  // there is none (not asked for, or the kernel refused: the load or the
  // provider then makes its own, and explains a failure). Each waits for
  // that kind's work in progress; once either is called, later make()
  // calls do nothing.
  int take_map(const MapSpec &wanted);
  int take_perf_event(const std::string &tracepoint);

private:
  // Per kind: Idle -> Making by the first make() (start(): the events
  // only); Done once made, or once anything was taken while Idle.
  enum class State { Idle, Making, Done };
  bool claim_kinds(bool maps, bool events);
  void make_claimed(const std::vector<MapSpec> &maps,
                    const std::vector<std::string> &tracepoints);
  // Waits for `state`'s work, ends any making not started yet.
  void wait_for(std::unique_lock<std::mutex> &lock, const State &state);

  std::mutex mutex_;
  std::condition_variable done_cv_;
  State maps_state_ = State::Idle, events_state_ = State::Idle;
  std::multimap<std::string, std::pair<int, MapSpec>> maps_; // by name
  std::multimap<std::string, int> events_; // by tracepoint; it may repeat
  std::thread thread_;
};

} // namespace hvt
