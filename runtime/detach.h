// Detaching many probes quickly. Each BPF link the kernel releases waits for
// an RCU grace period (~35 ms here), and each tracepoint or uprobe perf event
// it releases waits for another one while holding a global mutex: detaching a
// 360-tracepoint wildcard one link after the other took 26 s, before END
// could run and the maps be printed (bpftrace 0.17 takes as long).
#pragma once

#include <functional>
#include <vector>

namespace hvt {

// Runs task(0) .. task(count - 1), each on a thread of its own (at most
// kMaxDetachThreads at once), and returns when all are done. Tasks that
// block in the kernel on a grace period then share one. Falls back to this
// thread when no thread can be started.
void run_concurrently(size_t count, const std::function<void(size_t)> &task);
constexpr size_t kMaxDetachThreads = 512;

// Lets go of perf events no program is attached to any more, without waiting
// for the kernel to unregister them (one grace period each, one after the
// other): they are disabled, then handed to a background process
// ("hvt-detach", in a session of its own, holding no other file) that
// closes them and exits. When that process cannot be started they are
// closed here. `before_closing_here` (for tests) runs once that process has
// been started, before this one closes its copies.
void release_perf_events(const std::vector<int> &perf_fds,
                         const std::function<void()> &before_closing_here = {});

} // namespace hvt
