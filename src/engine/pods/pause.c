/* joey-pause: the process of a pod sandbox. It holds the pod's namespaces
 * open and does nothing else: sleeps until a signal, reaps the orphans that
 * land on it when it is the pod's PID 1, and leaves with 0 on SIGINT or
 * SIGTERM (it is PID 1, so an unhandled signal would be ignored). Built
 * static so that it runs in an image holding only itself. */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void leave(int sig) {
  (void)sig;
  _exit(0);
}

static void reap(int sig) {
  (void)sig;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

static void on(int sig, void (*fn)(int)) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = fn;
  sa.sa_flags = fn == reap ? SA_NOCLDSTOP | SA_RESTART : 0;
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, NULL);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "-v") == 0) {
    static const char v[] = "joey-pause 1\n";
    return write(1, v, sizeof v - 1) == (ssize_t)(sizeof v - 1) ? 0 : 1;
  }
  on(SIGINT, leave);
  on(SIGTERM, leave);
  on(SIGCHLD, reap);
  for (;;) pause();
}
