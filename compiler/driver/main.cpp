// hvt command line: bpftrace-compatible flags, then compile and run.
#include "driver/pipeline.h"
#include "runtime.h"

#include <CLI/CLI.hpp>

#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

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

// `hvt cpustolen.ht` finds the standard scripts from any directory.
std::string find_script(const std::string &name) {
  if (name.find('/') != std::string::npos || access(name.c_str(), R_OK) == 0)
    return name;
  for (const char *dir : {HVT_SCRIPTS_DIR, HVT_SOURCE_SCRIPTS_DIR}) {
    std::string candidate = std::string(dir) + "/" + name;
    if (access(candidate.c_str(), R_OK) == 0)
      return candidate;
  }
  return name;
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"hvt: a bpftrace-compatible tracer for hypervisor performance "
               "work",
               "hvt"};
  app.footer("Usage: hvt [OPTIONS] FILE [ARGS...]\n"
             "       hvt [OPTIONS] -e 'PROGRAM' [ARGS...]");
  std::string program_text;
  std::vector<std::string> positional;
  std::string dump_stage;
  bool quiet = false, verbose = false, dry_run = false, version = false;
  app.add_option("-e", program_text, "Program text to run");
  app.add_option("FILE_AND_ARGS", positional,
                 "Script file (.ht or .bt; - for stdin), then $1..$N");
  app.add_flag("-q", quiet, "Do not print the 'Attaching' line");
  app.add_flag("-v", verbose, "Verbose: libbpf and attach details");
  app.add_option("-d", dump_stage, "Dump a compiler stage: ast, ir, ir-opt, asm")
      ->check(CLI::IsMember({"ast", "ir", "ir-opt", "asm"}));
  app.add_flag("--dry-run", dry_run,
               "Compile and load into the verifier; attach nothing");
  app.add_flag("-V,--version", version, "Print the version");
  app.positionals_at_end(false);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    return app.exit(e);
  }
  if (version) {
    std::cout << "hvt v" << HVT_VERSION << '\n';
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

  bool compile_only = !dump_stage.empty() && !dry_run;
  if (!compile_only && !may_trace()) {
    std::cerr << "hvt: tracing needs root or the CAP_BPF and CAP_PERFMON "
                 "capabilities; run it with sudo\n";
    return 1;
  }

  hvt::SourceFile source(name, program_text);
  hvt::Diagnostics diags;
  hvt::CompileOptions options;
  options.semantic.positional = positional;
  if (dump_stage == "ast")
    options.dump_ast = &std::cout;
  else if (dump_stage == "ir")
    options.codegen.dump_ir = &std::cout;
  else if (dump_stage == "ir-opt")
    options.codegen.dump_ir_optimized = &std::cout;
  else if (dump_stage == "asm")
    options.codegen.dump_asm = &std::cout;

  auto compiled = hvt::compile(source, options, diags);
  diags.render(std::cerr, source);
  if (!compiled)
    return 1;
  if (compile_only)
    return 0;

  hvt::RunOptions run;
  run.quiet = quiet;
  run.verbose = verbose;
  run.dry_run = dry_run;
  hvt::Diagnostics run_diags;
  int code = hvt::run_program(*compiled, run, run_diags);
  run_diags.render(std::cerr, source);
  return code;
}
