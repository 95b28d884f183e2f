// Finding the binary a uprobe names: a path, a program on PATH, or a
// library resolved the way the dynamic linker would (ld.so.conf
// directories, then the standard ones), optionally as mapped by a process.
#pragma once

#include <string>
#include <vector>

namespace hvt::binaries {

// The file `name` refers to:
//   - a name containing '/' is a path and is returned as is;
//   - with `pid` (from -p), a library the process has mapped whose file name
//     is `name`, `name.so*` or `libNAME.so*` ("libc", "c", "libc.so.6");
//   - a program on $PATH;
//   - a shared library found like ld.so finds one, with the same names.
// Returns "" when nothing matches.
std::string resolve(const std::string &name, int pid = 0);

// The directories searched for libraries: /etc/ld.so.conf (with its
// includes), then /lib64, /usr/lib64, /lib and /usr/lib.
std::vector<std::string> library_directories();

// True when `path` is a readable ELF file.
bool is_elf(const std::string &path);

} // namespace hvt::binaries
