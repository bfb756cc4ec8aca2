/* Shared memory between the supervisor and its workers (native/shared-memory.c). */
#ifndef AI_INTEGRATION_SHARED_MEMORY_H
#define AI_INTEGRATION_SHARED_MEMORY_H
#include <node_api.h>

napi_value create_memory_file(napi_env env, napi_callback_info info);
napi_value map_memory_file(napi_env env, napi_callback_info info);
napi_value map_shared_file(napi_env env, napi_callback_info info);

#endif
