// joey's native system calls: mount(2) and umount2(2) without spawning
// mount(8)/umount(8), a process each (~5 ms from joeyd) on the path of every
// container start and exit; and extended attributes, which Node cannot read
// or write, without a getfattr/setfattr per tree or file. Node-API only, so it builds against any Node 20
// headers with a plain `cc -shared` (scripts/build.mjs); src/sys/native.ts
// loads it and src/sys/mount.ts falls back to the binaries without it.
#define NAPI_VERSION 8
#define _GNU_SOURCE
#include <errno.h>
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/xattr.h>

/* Throws an Error whose .code is the errno's name ("EINVAL") and whose
 * message names the call and the path. */
static void throw_errno(napi_env env, const char *call, const char *path, int err) {
  const char *name = strerrorname_np(err);
  char msg[4200];
  snprintf(msg, sizeof msg, "%s %s: %s", call, path, strerror(err));
  napi_throw_error(env, name ? name : "EIO", msg);
}

/* The string argument, malloc'ed; NULL for null/undefined (or after a throw). */
static char *string_arg(napi_env env, napi_value v, int optional, const char *what) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return NULL;
  if (optional && (t == napi_null || t == napi_undefined)) return NULL;
  if (t != napi_string) {
    napi_throw_type_error(env, NULL, what);
    return NULL;
  }
  size_t len = 0;
  napi_get_value_string_utf8(env, v, NULL, 0, &len);
  char *s = malloc(len + 1);
  if (!s) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  return s;
}

static int pending(napi_env env) {
  bool p = false;
  napi_is_exception_pending(env, &p);
  return p;
}

/* mount(source, target, fstype | null, flags, data | null) */
static napi_value js_mount(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 5) {
    napi_throw_type_error(env, NULL, "mount(source, target, fstype, flags, data)");
    return NULL;
  }
  char *source = string_arg(env, argv[0], 0, "source must be a string");
  char *target = source ? string_arg(env, argv[1], 0, "target must be a string") : NULL;
  char *fstype = target ? string_arg(env, argv[2], 1, "fstype must be a string or null") : NULL;
  char *data = !pending(env) ? string_arg(env, argv[4], 1, "data must be a string or null") : NULL;
  double flags = 0;
  if (!pending(env) && napi_get_value_double(env, argv[3], &flags) != napi_ok) napi_throw_type_error(env, NULL, "flags must be a number");
  if (!pending(env) && mount(source, target, fstype, (unsigned long)flags, data) != 0) throw_errno(env, "mount", target, errno);
  free(source);
  free(target);
  free(fstype);
  free(data);
  return NULL;
}

/* umount(target, flags) */
static napi_value js_umount(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2) {
    napi_throw_type_error(env, NULL, "umount(target, flags)");
    return NULL;
  }
  char *target = string_arg(env, argv[0], 0, "target must be a string");
  int32_t flags = 0;
  if (target && napi_get_value_int32(env, argv[1], &flags) != napi_ok) napi_throw_type_error(env, NULL, "flags must be a number");
  if (!pending(env) && umount2(target, flags) != 0) throw_errno(env, "umount", target, errno);
  free(target);
  return NULL;
}

/* An xattr call's target: a descriptor (a number) or a path whose last
 * component is not followed (a string). Sets *fd or *path (malloc'ed). */
static int xattr_target(napi_env env, napi_value v, int *fd, char **path) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  *fd = -1;
  *path = NULL;
  if (t == napi_number) {
    napi_get_value_int32(env, v, fd);
    return 1;
  }
  *path = string_arg(env, v, 0, "target must be a descriptor or a path");
  return *path != NULL;
}

/* One xattr call's target (fd, or path when not NULL) and name. */
struct xattr_call {
  int fd;
  const char *path;
  const char *name;
};

static ssize_t list_names(const struct xattr_call *c, char *buf, size_t size) {
  return c->path ? llistxattr(c->path, buf, size) : flistxattr(c->fd, buf, size);
}

static ssize_t get_value(const struct xattr_call *c, char *buf, size_t size) {
  return c->path ? lgetxattr(c->path, c->name, buf, size) : fgetxattr(c->fd, c->name, buf, size);
}

/* Asks `call` for the size, then reads into a buffer of that size, again
 * when it grew in between (ERANGE). The length with *out malloc'ed (free it
 * whatever the result), or -1 with errno set. */
static ssize_t read_sized(ssize_t (*call)(const struct xattr_call *, char *, size_t), const struct xattr_call *c, char **out) {
  *out = NULL;
  for (;;) {
    ssize_t n = call(c, NULL, 0);
    if (n <= 0) return n;
    char *grown = realloc(*out, n);
    if (!grown) {
      errno = ENOMEM;
      return -1;
    }
    *out = grown;
    n = call(c, *out, n);
    if (n >= 0 || errno != ERANGE) return n;
  }
}

/* xattrList(target): the attribute names, [] on a filesystem without xattrs. */
static napi_value js_xattr_list(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int fd;
  char *path;
  if (argc < 1 || !xattr_target(env, argv[0], &fd, &path)) return NULL;
  struct xattr_call c = {fd, path, NULL};
  char *buf;
  ssize_t n = read_sized(list_names, &c, &buf);
  napi_value out = NULL;
  if (n < 0 && errno != ENOTSUP) {
    throw_errno(env, "llistxattr", path ? path : "(descriptor)", errno);
  } else {
    napi_create_array(env, &out);
    uint32_t i = 0;
    for (ssize_t at = 0; n > 0 && at < n; at += strlen(buf + at) + 1) {
      napi_value name;
      napi_create_string_utf8(env, buf + at, NAPI_AUTO_LENGTH, &name);
      napi_set_element(env, out, i++, name);
    }
  }
  free(buf);
  free(path);
  return out;
}

/* xattrGet(target, name): the value as a Buffer, null when absent. */
static napi_value js_xattr_get(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int fd;
  char *path;
  if (argc < 2 || !xattr_target(env, argv[0], &fd, &path)) return NULL;
  char *name = string_arg(env, argv[1], 0, "name must be a string");
  napi_value out = NULL;
  char *buf = NULL;
  if (name) {
    struct xattr_call c = {fd, path, name};
    ssize_t n = read_sized(get_value, &c, &buf);
    if (n >= 0) {
      void *data;
      napi_create_buffer_copy(env, n, buf, &data, &out);
    } else if (errno == ENODATA || errno == ENOTSUP) {
      napi_get_null(env, &out);
    } else {
      throw_errno(env, "lgetxattr", path ? path : "(descriptor)", errno);
    }
  }
  free(buf);
  free(name);
  free(path);
  return out;
}

/* xattrSet(target, name, value: Buffer) */
static napi_value js_xattr_set(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int fd;
  char *path;
  if (argc < 3 || !xattr_target(env, argv[0], &fd, &path)) return NULL;
  char *name = string_arg(env, argv[1], 0, "name must be a string");
  void *data = NULL;
  size_t len = 0;
  bool is_buffer = false;
  if (name) napi_is_buffer(env, argv[2], &is_buffer);
  if (name && !is_buffer) napi_throw_type_error(env, NULL, "value must be a Buffer");
  if (!pending(env)) {
    napi_get_buffer_info(env, argv[2], &data, &len);
    int r = path ? lsetxattr(path, name, data, len, 0) : fsetxattr(fd, name, data, len, 0);
    if (r != 0) throw_errno(env, "lsetxattr", path ? path : "(descriptor)", errno);
  }
  free(name);
  free(path);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"mount", NULL, js_mount, NULL, NULL, NULL, napi_enumerable, NULL},
    {"umount", NULL, js_umount, NULL, NULL, NULL, napi_enumerable, NULL},
    {"xattrList", NULL, js_xattr_list, NULL, NULL, NULL, napi_enumerable, NULL},
    {"xattrGet", NULL, js_xattr_get, NULL, NULL, NULL, napi_enumerable, NULL},
    {"xattrSet", NULL, js_xattr_set, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
