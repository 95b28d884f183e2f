// Where a start spends its time (docs/performance.md, "Measuring a start").
//
// With HVT_TIMELINE set, each mark writes a line to stderr:
//
//   hvt-timeline 2.415 front-end-done
//
// milliseconds since an origin, then the phase. HVT_TIMELINE=<n>: n is the
// CLOCK_MONOTONIC time in nanoseconds a harness read when it started hvt,
// so the times count from there (bench/bench.py does this). Any other value:
// from hvt's first mark ("start", its first static initializer), which
// stores that origin back into HVT_TIMELINE before any thread exists, so
// that the code generator plugin, with its own copy of this header's state,
// counts from the same origin. Unset: a mark costs a load and a branch.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <unistd.h>

namespace hvt {

namespace timeline_detail {

inline long long monotonic_ns() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<long long>(now.tv_sec) * 1000000000LL + now.tv_nsec;
}

// The origin in ns, or -1 when the timeline is off.
inline long long origin_ns() {
  static const long long origin = [] {
    const char *value = getenv("HVT_TIMELINE");
    if (!value || !*value)
      return -1LL;
    char *end = nullptr;
    long long given = strtoll(value, &end, 10);
    if (end && *end == '\0' && given > 1)
      return given;
    long long now = monotonic_ns();
    char text[32];
    snprintf(text, sizeof text, "%lld", now);
    setenv("HVT_TIMELINE", text, 1);
    return now;
  }();
  return origin;
}

} // namespace timeline_detail

inline void timeline_mark(const char *phase) {
  long long origin = timeline_detail::origin_ns();
  if (origin < 0)
    return;
  double ms =
      static_cast<double>(timeline_detail::monotonic_ns() - origin) / 1e6;
  char line[128];
  int n = snprintf(line, sizeof line, "hvt-timeline %.3f %s\n", ms, phase);
  if (n > 0) // one write per line: lines from two threads do not interleave
    (void)!write(STDERR_FILENO, line,
                 static_cast<size_t>(n) < sizeof line ? n : sizeof line - 1);
}

} // namespace hvt
