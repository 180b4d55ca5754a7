// joey's native system calls: mount(2) and umount2(2) without spawning
// mount(8)/umount(8), a process each (~5 ms from joeyd) on the path of every
// container start and exit. Node-API only, so it builds against any Node 20
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

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"mount", NULL, js_mount, NULL, NULL, NULL, napi_enumerable, NULL},
    {"umount", NULL, js_umount, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, 2, props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
