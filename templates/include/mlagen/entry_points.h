// The C entry points every generated library exports (its mlagen.h declares the same, documented).
// For code that links a library but must not depend on its generated header, such as the harness
// program, whose object then stays cached across DSL edits.
#ifndef MLAGEN_ENTRY_POINTS_H
#define MLAGEN_ENTRY_POINTS_H
#include "mlagen/abi.h"

#ifdef __cplusplus
extern "C" {
#endif
const char* mlagen_variant_id(void);
const char* mlagen_last_error(void);
int32_t mlagen_num_sm_parts(int32_t num_sms, int32_t s_q, int32_t h_q, int32_t h_kv);
size_t mlagen_workspace_bytes(int32_t batch, int32_t s_q, int32_t h_q, int32_t h_kv, int32_t num_sm_parts);
mlagen_status mlagen_get_metadata(const mlagen_sched_params* params);
mlagen_status mlagen_decode(const mlagen_decode_params* params);
#ifdef __cplusplus
}
#endif
#endif /* MLAGEN_ENTRY_POINTS_H */
