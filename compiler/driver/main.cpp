// hvt command line: bpftrace-compatible flags, then compile and run.
// Exit codes: 0 success, 1 any user, compile, load or attach error.
#include "child.h"
#include "driver/cache.h" // compile cache (performance)
#include "driver/compiler_host.h"
#include "driver/pipeline.h"
#include "frontend/install_paths.h"
#include "kernel_features.h"
#include "objects_ahead.h"
#include "probe_list.h"
#include "runtime.h"
#include "timeline.h"

#include <CLI/CLI.hpp>

#include <dirent.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>

namespace {

// CAP_BPF and CAP_PERFMON exist since Linux 5.8; older headers lack them.
constexpr int kCapPerfmon = 38;
constexpr int kCapBpf = 39;

bool has_capability(int cap) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &header, data) != 0)
    return false;
  return data[cap / 32].effective & (1u << (cap % 32));
}

bool may_trace() {
  return geteuid() == 0 || has_capability(CAP_SYS_ADMIN) ||
         (has_capability(kCapBpf) && has_capability(kCapPerfmon));
}

bool read_file(const std::string &path, std::string &text) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return false;
  std::stringstream ss;
  ss << in.rdbuf();
  text = ss.str();
  return true;
}

bool readable(const std::string &path) {
  return access(path.c_str(), R_OK) == 0;
}

// Where standard scripts live, in search order: $HVT_SCRIPT_PATH (colon
// separated), the share folder of this installation (relative to the
// binary), the configured install prefix, and the source tree.
std::vector<std::string> script_directories() {
  std::vector<std::string> dirs;
  if (const char *path = getenv("HVT_SCRIPT_PATH")) {
    std::stringstream in(path);
    for (std::string dir; std::getline(in, dir, ':');)
      if (!dir.empty())
        dirs.push_back(dir);
  }
  if (std::string bin = hvt::executable_directory(); !bin.empty())
    dirs.push_back(bin + "/../share/hvt/scripts");
  dirs.push_back(HVT_SCRIPTS_DIR);
  dirs.push_back(HVT_SOURCE_SCRIPTS_DIR);
  return dirs;
}

bool has_script_extension(const std::string &name) {
  auto ends_with = [&](const char *suffix) {
    size_t n = strlen(suffix);
    return name.size() > n && name.compare(name.size() - n, n, suffix) == 0;
  };
  return ends_with(".ht") || ends_with(".bt");
}

// `hvt cpustolen.ht` (or `hvt cpustolen`) finds a standard script from any
// directory; a path, or a file in the current directory, is used as is.
std::string find_script(const std::string &name) {
  if (name.find('/') != std::string::npos || readable(name))
    return name;
  for (const auto &dir : script_directories()) {
    if (readable(dir + "/" + name))
      return dir + "/" + name;
    if (!has_script_extension(name) && readable(dir + "/" + name + ".ht"))
      return dir + "/" + name + ".ht";
  }
  return name;
}

// A script's one-line description: the first line of its leading comment
// (after a #! line), without the comment marker or a leading "NAME:".
std::string script_description(const std::string &path,
                               const std::string &name) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("#!", 0) == 0)
      continue;
    size_t b = line.find_first_not_of(" \t");
    if (b == std::string::npos)
      continue;
    line = line.substr(b);
    for (const char *marker : {"//", "/*", "*", "#"})
      if (line.rfind(marker, 0) == 0) {
        line = line.substr(strlen(marker));
        break;
      }
    if (line.size() >= 2 && line.compare(line.size() - 2, 2, "*/") == 0)
      line.resize(line.size() - 2);
    b = line.find_first_not_of(" \t");
    if (b == std::string::npos)
      continue;
    line = line.substr(b);
    std::string stem = name.substr(0, name.rfind('.'));
    for (const std::string &prefix : {name, stem})
      if (line.rfind(prefix, 0) == 0) {
        size_t rest = line.find_first_not_of(" \t:-", prefix.size());
        if (rest != std::string::npos && rest > prefix.size())
          line = line.substr(rest);
      }
    return line;
  }
  return "";
}

int list_scripts(std::ostream &out, bool verbose) {
  std::map<std::string, std::string> found; // name -> path, first one wins
  for (const auto &dir : script_directories()) {
    DIR *d = opendir(dir.c_str());
    if (!d)
      continue;
    while (dirent *entry = readdir(d)) {
      std::string name = entry->d_name;
      if (name.size() > 3 && name.compare(name.size() - 3, 3, ".ht") == 0)
        found.emplace(name, dir + "/" + name);
    }
    closedir(d);
  }
  if (found.empty()) {
    std::cerr << "hvt: no standard scripts found (searched $HVT_SCRIPT_PATH "
                 "and "
              << HVT_SCRIPTS_DIR << ")\n";
    return 1;
  }
  size_t width = 0;
  for (const auto &[name, path] : found)
    width = std::max(width, name.size());
  for (const auto &[name, path] : found) {
    out << name << std::string(width - name.size() + 2, ' ')
        << script_description(path, name) << '\n';
    if (verbose)
      out << std::string(width + 2, ' ') << path << '\n';
  }
  return 0;
}

bool process_exists(int pid) {
  return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

} // namespace

// The timeline's first mark (runtime/timeline.h): hvt's first static
// initializer, before any thread exists.
[[gnu::constructor(101)]] static void mark_start() {
  hvt::timeline_mark("start");
}

int main(int argc, char **argv) {
  hvt::timeline_mark("main");
  CLI::App app{"hvt: a bpftrace-compatible tracer for hypervisor performance "
               "work",
               "hvt"};
  app.footer("Usage: hvt [OPTIONS] FILE [ARGS...]\n"
             "       hvt [OPTIONS] -e 'PROGRAM' [ARGS...]\n"
             "       hvt -l [PATTERN]\n"
             "Exit status: 0 on success, 1 on any error.");
  std::string program_text, output_path, format = "text", buffering, command;
  std::vector<std::string> positional, dump_stages;
  int pid = 0;
  bool quiet = false, verbose = false, dry_run = false, version = false,
       list = false, info = false, scripts = false;
  app.add_option("-e", program_text, "Program text to run")
      ->type_name("PROGRAM");
  app.add_option("FILE_AND_ARGS", positional,
                 "Script file (.ht or .bt; - for stdin), then $1..$N; with "
                 "-l, the probe pattern");
  app.add_flag("-l", list,
               "List probes matching the pattern (-lv: with "
               "tracepoint fields and function arguments)");
  app.add_option("-p", pid,
                 "Trace process PID: uprobes attach to it, other "
                 "probes fire for it only; stop when it exits")
      ->type_name("PID");
  app.add_option("-c", command,
                 "Run CMD, traced from its first instruction; "
                 "stop when it exits (cpid is its pid)")
      ->type_name("CMD");
  app.add_option("-f", format, "Output format: text or json")
      ->type_name("FORMAT")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("-o", output_path, "Write program output to FILE")
      ->type_name("FILE");
  app.add_option("-B", buffering,
                 "Output buffering: none, line or full "
                 "(default: line)")
      ->type_name("MODE")
      ->check(CLI::IsMember({"none", "line", "full"}));
  app.add_flag("-q", quiet, "Do not print the 'Attaching' line");
  // --- compile cache (compiler/driver/cache.h) ---
  bool no_cache = false;
  app.add_flag("--no-cache", no_cache,
               "Compile the program even if a stored object for it exists");
  // --- end compile cache ---
  app.add_flag("-v", verbose,
               "Verbose: libbpf's log, attach points left out, fallbacks");
  app.add_option("-d", dump_stages,
                 "Dump a stage and exit: ast, ir, ir-opt, asm, verifier "
                 "(repeatable)")
      ->type_name("STAGE")
      ->allow_extra_args(false) // one stage per -d: `-d ir FILE` keeps FILE
      ->check(CLI::IsMember({"ast", "ir", "ir-opt", "asm", "verifier"}));
  app.add_flag("--dry-run", dry_run,
               "Compile and load into the verifier; attach nothing");
  app.add_flag("--info", info, "Show the kernel features hvt detected");
  app.add_flag("--list-scripts", scripts,
               "List the standard scripts with their descriptions");
  app.add_flag("-V,--version", version, "Print the version");
  app.positionals_at_end(false);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    // -h prints help and succeeds; every usage error exits 1.
    return app.exit(e) == 0 ? 0 : 1;
  }
  if (version) {
    std::cout << "hvt v" << HVT_VERSION << '\n';
    return 0;
  }

  // -o applies to everything hvt prints as output (listings included).
  std::ofstream output_file;
  if (!output_path.empty()) {
    output_file.open(output_path, std::ios::out | std::ios::trunc);
    if (!output_file) {
      std::cerr << "hvt: cannot write '" << output_path
                << "': " << strerror(errno) << '\n';
      return 1;
    }
  }
  std::ostream &out = output_path.empty() ? std::cout : output_file;

  if (info) {
    out << "hvt v" << HVT_VERSION << "\n";
    hvt::print_features(out);
    return 0;
  }
  if (scripts)
    return list_scripts(out, verbose);
  if (list) {
    std::string pattern = positional.empty() ? "" : positional.front();
    if (hvt::list_probes(pattern, verbose, out) == 0) {
      std::cerr << "hvt: no probe matches '" << pattern << "'\n";
      return 1;
    }
    return 0;
  }

  std::string name = "stdin";
  if (app.count("-e") == 0) {
    if (positional.empty()) {
      std::cerr << "hvt: no program given: pass a script FILE or -e 'PROGRAM' "
                   "(see hvt --help)\n";
      return 1;
    }
    std::string path = positional.front();
    positional.erase(positional.begin());
    if (path == "-") {
      std::stringstream ss;
      ss << std::cin.rdbuf();
      program_text = ss.str();
    } else {
      name = find_script(path);
      if (!read_file(name, program_text)) {
        std::cerr << "hvt: cannot read '" << path << "': " << strerror(errno)
                  << '\n';
        return 1;
      }
    }
  }

  bool dump_verifier = std::find(dump_stages.begin(), dump_stages.end(),
                                 "verifier") != dump_stages.end();
  bool compile_only = !dump_stages.empty() && !dump_verifier && !dry_run;
  dry_run = dry_run || dump_verifier;
  if (!compile_only && !may_trace()) {
    std::cerr << "hvt: tracing needs root or the CAP_BPF and CAP_PERFMON "
                 "capabilities; run it with sudo\n";
    return 1;
  }
  if (pid && !command.empty()) {
    std::cerr << "hvt: -p and -c cannot be used together\n";
    return 1;
  }
  if (app.count("-p") && !process_exists(pid)) {
    std::cerr << "hvt: no process with PID " << pid << " (-p)\n";
    return 1;
  }

  hvt::CompileOptions options;
  options.semantic.positional = positional;
  options.semantic.target_pid = static_cast<uint32_t>(pid);
  options.semantic.kernel_has_attach_cookies = hvt::kernel_has_attach_cookies;
  for (const auto &stage : dump_stages) {
    if (stage == "ast")
      options.dump_ast = &std::cout;
    else if (stage == "ir")
      options.codegen.dump_ir = &std::cout;
    else if (stage == "ir-opt")
      options.codegen.dump_ir_optimized = &std::cout;
    else if (stage == "asm")
      options.codegen.dump_asm = &std::cout;
  }

  // -c: started now so cpid is known to the compiler; held before exec
  // until every probe is attached.
  std::optional<hvt::ChildProcess> child;
  if (!command.empty() && !compile_only && !dry_run) {
    std::string error;
    auto spawned = hvt::ChildProcess::spawn(command, error);
    if (!spawned) {
      std::cerr << "hvt: cannot run -c '" << command << "': " << error << '\n';
      return 1;
    }
    child.emplace(std::move(*spawned));
    options.semantic.child_pid = static_cast<uint32_t>(child->pid());
  }

  hvt::SourceFile source(name, program_text);
  hvt::OutputFormat output_format =
      format == "json" ? hvt::OutputFormat::Json : hvt::OutputFormat::Text;
  auto json_records = [&](const hvt::Diagnostics &diags) {
    if (output_format != hvt::OutputFormat::Json)
      return;
    auto records = hvt::make_output(output_format, out);
    for (const auto &d : diags.all())
      records->diagnostic(d);
    records->flush();
  };

  // A compile makes the maps and opens the tracepoints' perf events on its
  // spare thread, for the runtime to take (runtime/objects_ahead.h).
  // Shared: that thread may outlive a failed compile.
  auto objects_ahead = std::make_shared<hvt::KernelObjectsAhead>();
  if (!compile_only && !dry_run)
    options.while_compiling =
        [ahead = objects_ahead](const hvt::SemanticResult &semantic) {
          std::vector<std::string> tracepoints;
          for (const hvt::ProbeInfo &probe : semantic.probes)
            for (const hvt::ResolvedAttachPoint &point : probe.points)
              if (hvt::KernelObjectsAhead::opens_ahead(point.desc))
                tracepoints.push_back(point.desc.target);
          return ahead->claim(hvt::KernelObjectsAhead::maps_of(semantic.maps),
                              std::move(tracepoints));
        };

  hvt::timeline_mark("arguments");
  hvt::Diagnostics diags;
  // --- compile cache: a stored object when this program was compiled before
  hvt::CacheOptions cache;
  cache.enabled = !no_cache;
  cache.verbose = verbose;
  cache.log = &std::cerr;
  // A miss's entry is written once the probes are attached (or the run
  // ends), not while the start waits for it.
  std::function<void(const hvt::CompiledProgram &)> store_entry;
  cache.deferred_store = &store_entry;
  auto compiled = hvt::compile_cached(source, options, cache, diags);
  // --- end compile cache ---
  hvt::timeline_mark("compiled");
  diags.render(std::cerr, source);
  json_records(diags);
  if (!compiled)
    return 1;
  auto store_pending_entry = [&] {
    if (store_entry)
      std::exchange(store_entry, nullptr)(*compiled);
  };
  if (compile_only) {
    store_pending_entry();
    return 0;
  }

  hvt::RunOptions run;
  run.quiet = quiet;
  run.verbose = verbose;
  run.dry_run = dry_run;
  run.format = output_format;
  run.out = &out;
  run.buffering = buffering == "none"   ? hvt::Buffering::None
                  : buffering == "full" ? hvt::Buffering::Full
                                        : hvt::Buffering::Line;
  run.verifier_log = dump_verifier ? &std::cout : nullptr;
  run.pid = pid;
  run.child = child ? &*child : nullptr;
  run.objects_ahead = objects_ahead.get();
  run.on_attached = [&] {
    hvt::unload_compiler();
    store_pending_entry();
  };
  run.on_warning = [&](const hvt::Diagnostic &d) {
    hvt::render_diagnostic(std::cerr, source, d);
    if (output_format == hvt::OutputFormat::Json)
      hvt::make_output(output_format, out)->diagnostic(d);
  };
  hvt::Diagnostics run_diags;
  errno = 0;
  int code = hvt::run_program(*compiled, run, run_diags);
  store_pending_entry();
  run_diags.render(std::cerr, source);
  json_records(run_diags);
  // A closed pipe on stdout ends quietly, like head(1) expects; a file that
  // cannot be written (full disk) is an error the user must hear about. The
  // runtime stopped and detached at the first failed write.
  if (!output_path.empty() && !output_file.flush()) {
    int err = errno ? errno : EIO;
    std::cerr << "hvt: cannot write '" << output_path << "': " << strerror(err)
              << '\n';
    return 1;
  }
  return code;
}
