/*
 * The system calls the supervisor needs and Node does not offer: waitpid() on a process Node did
 * not spawn and prctl(PR_SET_CHILD_SUBREAPER), to reap orphaned processes (Node's own child
 * handling, libuv, only waits for the processes it spawned, so a Node PID 1 would collect zombies
 * forever), prctl(PR_SET_PDEATHSIG), so that the service ends when the process that started
 * it goes, SO_SNDBUF on the byte stream to a worker (Node sets it only on UDP sockets), and the
 * memory files large values reach a worker through (shared-memory.c). Built
 * by native/build.mjs; loaded by src/supervisor/native-helper.ts.
 */
#include "shared-memory.h"
#include <errno.h>
#include <node_api.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

/* reapExited(pid): waits for `pid` if it has exited; true when it was reaped. Never blocks. */
static napi_value reap_exited(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t pid = 0;
  napi_value result;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &pid) != napi_ok || pid <= 0) {
    napi_throw_type_error(env, NULL, "reapExited(pid) needs a positive process id");
    return NULL;
  }
  int status;
  pid_t reaped;
  do {
    reaped = waitpid((pid_t)pid, &status, WNOHANG);
  } while (reaped < 0 && errno == EINTR);
  napi_get_boolean(env, reaped == (pid_t)pid, &result);
  return result;
}

/* becomeSubreaper(): orphans of our descendants are reparented to us instead of to PID 1. */
static napi_value become_subreaper(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_get_boolean(env, prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0, &result);
  return result;
}

/* signalOnParentDeath(signal): the kernel sends `signal` to us when our parent exits. */
static napi_value signal_on_parent_death(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t signal = 0;
  napi_value result;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &signal) != napi_ok || signal <= 0) {
    napi_throw_type_error(env, NULL, "signalOnParentDeath(signal) needs a positive signal number");
    return NULL;
  }
  napi_get_boolean(env, prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0, 0, 0) == 0, &result);
  return result;
}

/*
 * setSendBufferSize(fd, bytes): SO_SNDBUF of socket `fd`, which Node sets only on UDP sockets; the
 * size the kernel granted (it caps the request at net.core.wmem_max and doubles it), or -1.
 */
static napi_value set_send_buffer_size(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd, bytes;
  napi_value result;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0 ||
      napi_get_value_int32(env, argv[1], &bytes) != napi_ok || bytes <= 0) {
    napi_throw_type_error(env, NULL, "setSendBufferSize(fd, bytes) needs a file descriptor and a positive size");
    return NULL;
  }
  int granted = -1;
  socklen_t length = sizeof(granted);
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes)) != 0 ||
      getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &granted, &length) != 0)
    granted = -1;
  napi_create_int32(env, granted, &result);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
    {"reapExited", NULL, reap_exited, NULL, NULL, NULL, napi_enumerable, NULL},
    {"becomeSubreaper", NULL, become_subreaper, NULL, NULL, NULL, napi_enumerable, NULL},
    {"signalOnParentDeath", NULL, signal_on_parent_death, NULL, NULL, NULL, napi_enumerable, NULL},
    {"setSendBufferSize", NULL, set_send_buffer_size, NULL, NULL, NULL, napi_enumerable, NULL},
    {"createMemoryFile", NULL, create_memory_file, NULL, NULL, NULL, napi_enumerable, NULL},
    {"mapMemoryFile", NULL, map_memory_file, NULL, NULL, NULL, napi_enumerable, NULL},
    {"mapSharedFile", NULL, map_shared_file, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof(properties) / sizeof(properties[0]), properties);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
