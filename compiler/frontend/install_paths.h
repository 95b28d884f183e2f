// Where the running hvt binary is, so files installed beside it (the code
// generator plugin, standard scripts, shipped tracepoint formats) are found
// from any prefix and from the build tree. Nothing here needs ANTLR or LLVM.
#pragma once

#include <string>

namespace hvt {

// The directory of /proc/self/exe, without a trailing '/'; "" if unknown.
std::string executable_directory();

} // namespace hvt
