// Describes the BPF programs a process holds, as JSON on stdout: one object
// per program with its kernel and BTF names, type, xlated instruction count,
// jited size and the run-time statistics (kernel.bpf_stats_enabled=1).
// With a directory argument, also writes each program's jited image there as
// PROG_ID.bin (bpftool without libbfd cannot dump it).
// Usage: proginfo PID [JIT_DIR]
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int quiet(enum libbpf_print_level level, const char *fmt, va_list args) {
  (void)level;
  (void)fmt;
  (void)args;
  return 0;
}

// The id of the program behind /proc/PID/fdinfo/FD, or 0.
static uint32_t prog_id_of(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f)
    return 0;
  char line[256];
  uint32_t id = 0;
  while (fgets(line, sizeof(line), f))
    if (sscanf(line, "prog_id: %u", &id) == 1)
      break;
  fclose(f);
  return id;
}

// The BTF name of the program's main function: the full name, where the
// kernel's own name is cut at 15 characters.
static void btf_name(int fd, const struct bpf_prog_info *info, char *out,
                     size_t size) {
  out[0] = '\0';
  if (!info->btf_id || !info->nr_func_info)
    return;
  struct bpf_func_info funcs[1];
  struct bpf_prog_info again;
  memset(&again, 0, sizeof(again));
  again.nr_func_info = 1;
  again.func_info_rec_size = sizeof(struct bpf_func_info);
  again.func_info = (uintptr_t)funcs;
  uint32_t len = sizeof(again);
  if (bpf_obj_get_info_by_fd(fd, &again, &len) != 0)
    return;
  struct btf *btf = btf__load_from_kernel_by_id(info->btf_id);
  if (!btf)
    return;
  const struct btf_type *t = btf__type_by_id(btf, funcs[0].type_id);
  if (t)
    snprintf(out, size, "%s", btf__name_by_offset(btf, t->name_off));
  btf__free(btf);
}

static void write_jited(int fd, uint32_t id, uint32_t jited_len,
                        const char *dir) {
  unsigned char *image = malloc(jited_len ? jited_len : 1);
  if (!image)
    return;
  struct bpf_prog_info info;
  memset(&info, 0, sizeof(info));
  info.jited_prog_len = jited_len;
  info.jited_prog_insns = (uintptr_t)image;
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) {
    char path[4096];
    snprintf(path, sizeof(path), "%s/%u.bin", dir, id);
    FILE *out = fopen(path, "wb");
    if (out) {
      fwrite(image, 1, jited_len, out);
      fclose(out);
    }
  }
  free(image);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s PID [JIT_DIR]\n", argv[0]);
    return 1;
  }
  libbpf_set_print(quiet);
  char path[4096];
  snprintf(path, sizeof(path), "/proc/%s/fdinfo", argv[1]);
  DIR *dir = opendir(path);
  if (!dir) {
    fprintf(stderr, "proginfo: %s: %s\n", path, strerror(errno));
    return 1;
  }
  printf("[");
  int first = 1;
  uint32_t seen[1024];
  size_t nseen = 0;
  struct dirent *entry;
  while ((entry = readdir(dir))) {
    if (entry->d_name[0] == '.')
      continue;
    snprintf(path, sizeof(path), "/proc/%s/fdinfo/%s", argv[1], entry->d_name);
    uint32_t id = prog_id_of(path);
    // Link fds name their program too: report each program once.
    size_t i = 0;
    while (i < nseen && seen[i] != id)
      ++i;
    if (!id || i < nseen)
      continue;
    if (nseen < sizeof(seen) / sizeof(seen[0]))
      seen[nseen++] = id;
    int fd = bpf_prog_get_fd_by_id(id);
    if (fd < 0)
      continue;
    struct bpf_prog_info info;
    memset(&info, 0, sizeof(info));
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) {
      char full[256];
      btf_name(fd, &info, full, sizeof(full));
      if (argc > 2)
        write_jited(fd, id, info.jited_prog_len, argv[2]);
      printf("%s\n {\"id\": %u, \"type\": %u, \"name\": \"%s\", "
             "\"btf_name\": \"%s\", \"xlated_insns\": %u, "
             "\"jited_bytes\": %u, \"verified_insns\": %u, "
             "\"run_time_ns\": %llu, \"run_cnt\": %llu}",
             first ? "" : ",", id, info.type, info.name, full,
             info.xlated_prog_len / 8, info.jited_prog_len, info.verified_insns,
             (unsigned long long)info.run_time_ns,
             (unsigned long long)info.run_cnt);
      first = 0;
    }
    close(fd);
  }
  closedir(dir);
  printf("\n]\n");
  return 0;
}
