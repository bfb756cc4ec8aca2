/*
 * Large binary values handed from the supervisor to its worker in shared memory instead of
 * through a socket (src/supervisor/shared-memory.ts): the supervisor writes a value into a memory
 * file (memfd) with pwrite, and the worker maps that file, so the bytes are copied once (into
 * the file) and never through the kernel's socket buffers, and counted once. Node can neither
 * create a memfd nor map a file, hence these three calls.
 */
#define _GNU_SOURCE
#include "shared-memory.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

/* A mapping a Buffer is a view of: unmapped when the Buffer is collected. */
typedef struct {
  void *base;
  size_t length;
} mapping_t;

static void unmap(napi_env env, void *data, void *hint) {
  (void)env;
  (void)data;
  mapping_t *mapping = hint;
  munmap(mapping->base, mapping->length);
  free(mapping);
}

static napi_value throw_errno(napi_env env, const char *what, int error) {
  char message[256];
  snprintf(message, sizeof(message), "%s: %s", what, strerror(error));
  napi_value code, text, exception;
  napi_create_string_utf8(env, strerror(error), NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, NULL, text, &exception);
  napi_throw(env, exception);
  return NULL;
}

/* A Buffer over bytes [offset, offset + length) of a fresh mapping of `fd`. */
static napi_value buffer_over(napi_env env, int fd, int prot, int flags, off_t offset, size_t length, int populate) {
  long page = sysconf(_SC_PAGESIZE);
  off_t start = offset - offset % page;
  size_t delta = (size_t)(offset - start);
  size_t mapped = delta + length;
  void *base = mmap(NULL, mapped, prot, flags, fd, start);
  if (base == MAP_FAILED) return throw_errno(env, "mmap", errno);
  /* The pages are in memory already (the supervisor wrote them): map them all at once rather than
   * one fault per page. Without it (a kernel before 5.14) they are mapped as they are read. */
  if (populate) madvise(base, mapped, MADV_POPULATE_READ);
  mapping_t *mapping = malloc(sizeof(mapping_t));
  if (mapping == NULL) {
    munmap(base, mapped);
    return throw_errno(env, "malloc", ENOMEM);
  }
  mapping->base = base;
  mapping->length = mapped;
  napi_value buffer;
  if (napi_create_external_buffer(env, length, (char *)base + delta, unmap, mapping, &buffer) != napi_ok) {
    munmap(base, mapped);
    free(mapping);
    napi_throw_error(env, NULL, "napi_create_external_buffer failed");
    return NULL;
  }
  return buffer;
}

static int get_length(napi_env env, napi_value value, size_t *length) {
  double number;
  if (napi_get_value_double(env, value, &number) != napi_ok || !(number >= 0) || number > 9007199254740991.0 || number != (double)(size_t)number)
    return 0;
  *length = (size_t)number;
  return 1;
}

/* createMemoryFile(name, length): a memfd (close-on-exec, so no worker inherits it) of `length` bytes, all holes; its fd. */
napi_value create_memory_file(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  char name[200];
  size_t length;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_string_utf8(env, argv[0], name, sizeof(name), NULL) != napi_ok || !get_length(env, argv[1], &length)) {
    napi_throw_type_error(env, NULL, "createMemoryFile(name, length) needs a name and a length");
    return NULL;
  }
  int fd = memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) return throw_errno(env, "memfd_create", errno);
  if (ftruncate(fd, (off_t)length) != 0) {
    int error = errno;
    close(fd);
    return throw_errno(env, "ftruncate", error);
  }
  napi_value result;
  napi_create_int32(env, fd, &result);
  return result;
}

/*
 * mapMemoryFile(fd, length): a Buffer over a shared mapping of the whole memory file `fd` (the
 * supervisor's view, written with pwrite, not through the mapping, so that only the pages it
 * reads count in its memory). Unmapped when the Buffer is collected; the fd stays the caller's.
 */
napi_value map_memory_file(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd;
  size_t length;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      fd < 0 || !get_length(env, argv[1], &length) || length == 0) {
    napi_throw_type_error(env, NULL, "mapMemoryFile(fd, length) needs a file descriptor and a positive length");
    return NULL;
  }
  return buffer_over(env, fd, PROT_READ | PROT_WRITE, MAP_SHARED, 0, length, 0);
}

/*
 * mapSharedFile(path, name, offset, length): the worker's view of bytes [offset, offset + length)
 * of the supervisor's memory file called `name`, opened at `path` (/proc/<supervisor>/fd/<fd>).
 * The file must be that memfd (its name is checked on the worker's own fd, so a number the
 * supervisor closed and reused meanwhile is refused) and long enough. Mapped private and writable:
 * a model that writes into its input changes its own copy of the page, never the supervisor's.
 */
napi_value map_shared_file(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  char path[256], name[200];
  size_t offset, length;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4 ||
      napi_get_value_string_utf8(env, argv[0], path, sizeof(path), NULL) != napi_ok ||
      napi_get_value_string_utf8(env, argv[1], name, sizeof(name), NULL) != napi_ok || !get_length(env, argv[2], &offset) ||
      !get_length(env, argv[3], &length) || length == 0) {
    napi_throw_type_error(env, NULL, "mapSharedFile(path, name, offset, length) needs a path, a name, an offset and a positive length");
    return NULL;
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, path, errno);
  char self[64], target[320], expected[256];
  snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
  ssize_t read = readlink(self, target, sizeof(target) - 1);
  snprintf(expected, sizeof(expected), "/memfd:%s (deleted)", name);
  struct stat status;
  if (read < 0 || (target[read] = '\0', strcmp(target, expected) != 0)) {
    close(fd);
    return throw_errno(env, "the shared file is not the one announced", ESTALE);
  }
  if (fstat(fd, &status) != 0 || (size_t)status.st_size < offset + length) {
    close(fd);
    return throw_errno(env, "the shared file is shorter than announced", EINVAL);
  }
  napi_value buffer = buffer_over(env, fd, PROT_READ | PROT_WRITE, MAP_PRIVATE, (off_t)offset, length, 1);
  /* The mapping holds the file; the fd is not needed any more. */
  close(fd);
  return buffer;
}
