// The traced program of the uprobe, -p and -c kernel tests. Its functions
// take and return known values, so a test can check arg0 and retval.
//
//   uprobe_target            calls hvt_target_add(40, 2) three times, exits
//   uprobe_target wait       for each line N read from stdin, calls
//                            hvt_target_add(N, 1) and getppid(); exits at EOF
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

// noinline and used: the uprobe needs a real function of that name.
__attribute__((noinline, used)) int hvt_target_add(int a, int b) {
  __asm__ volatile("" ::: "memory");
  return a + b;
}

__attribute__((noinline, used)) int hvt_target_other(int a) {
  __asm__ volatile("" ::: "memory");
  return a * 2;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "wait") == 0) {
    char line[64];
    while (fgets(line, sizeof(line), stdin)) {
      hvt_target_add(atoi(line), 1);
      syscall(SYS_getppid);
    }
    return 0;
  }
  int sum = 0;
  for (int i = 0; i < 3; ++i)
    sum += hvt_target_add(40, 2);
  sum += hvt_target_other(1);
  return sum == 128 ? 0 : 1;
}
