// Links the runtime library alone: proves a compiled program can be run
// without the compiler. The test below checks this binary needs no LLVM.
#include "runtime.h"

int main(int argc, char **) {
  hvt::CompiledProgram program; // empty: nothing to load
  hvt::Diagnostics diags;
  hvt::RunOptions options;
  // Referenced (so the whole runtime is linked in) but not run by the test.
  if (argc > 1)
    return hvt::run_program(program, options, diags);
  return 0;
}
