// joey-nsmount PID SOURCE:TARGET...
//
// Binds host files over paths inside the mount namespace of process PID
// (a running container), replacing what is mounted there, without a process
// or a binary inside the container: each SOURCE is cloned on the host as a
// detached mount (open_tree), made read-only, nosuid, nodev and noexec, and
// moved onto TARGET after joining the namespace (move_mount). joeyd uses it
// to give running containers a restarted lxcfs's files again. A separate
// program, not the addon: setns(CLONE_NEWNS) needs a single-threaded process.
// Exit status: 0 when every target was replaced, 1 otherwise (each failure
// named on stderr), 2 on bad arguments.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: joey-nsmount PID SOURCE:TARGET...\n");
    return 2;
  }
  char *end = NULL;
  long pid = strtol(argv[1], &end, 10);
  if (!*argv[1] || *end || pid <= 0) {
    fprintf(stderr, "joey-nsmount: bad pid %s\n", argv[1]);
    return 2;
  }
  int n = argc - 2;
  int *trees = calloc(n, sizeof(int));
  char **targets = calloc(n, sizeof(char *));
  if (!trees || !targets) return 1;
  int failed = 0;
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC};
  // Every source is opened while still in the host's namespace.
  for (int i = 0; i < n; i++) {
    char *arg = argv[i + 2];
    char *colon = strchr(arg, ':');
    if (!colon || colon == arg || !colon[1] || colon[1] != '/') {
      fprintf(stderr, "joey-nsmount: bad pair %s (SOURCE:/TARGET)\n", arg);
      return 2;
    }
    *colon = '\0';
    targets[i] = colon + 1;
    trees[i] = open_tree(AT_FDCWD, arg, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (trees[i] < 0) {
      fprintf(stderr, "joey-nsmount: %s: %s\n", arg, strerror(errno));
      failed = 1;
      continue;
    }
    if (mount_setattr(trees[i], "", AT_EMPTY_PATH, &attr, sizeof attr) != 0) {
      fprintf(stderr, "joey-nsmount: %s: making it read-only: %s\n", arg, strerror(errno));
      close(trees[i]);
      trees[i] = -1;
      failed = 1;
    }
  }
  char ns[64];
  snprintf(ns, sizeof ns, "/proc/%ld/ns/mnt", pid);
  int nsfd = open(ns, O_RDONLY | O_CLOEXEC);
  if (nsfd < 0 || setns(nsfd, CLONE_NEWNS) != 0) {
    fprintf(stderr, "joey-nsmount: joining the mount namespace of %ld: %s\n", pid, strerror(errno));
    return 1;
  }
  for (int i = 0; i < n; i++) {
    if (trees[i] < 0) continue;
    // What is there (a dead FUSE connection's file) goes first; nothing there is fine.
    if (umount2(targets[i], MNT_DETACH) != 0 && errno != EINVAL) {
      fprintf(stderr, "joey-nsmount: %s: unmounting: %s\n", targets[i], strerror(errno));
      failed = 1;
      continue;
    }
    if (move_mount(trees[i], "", AT_FDCWD, targets[i], MOVE_MOUNT_F_EMPTY_PATH) != 0) {
      fprintf(stderr, "joey-nsmount: %s: %s\n", targets[i], strerror(errno));
      failed = 1;
    }
  }
  return failed;
}
