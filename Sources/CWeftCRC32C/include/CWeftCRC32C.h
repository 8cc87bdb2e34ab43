// CRC-32C (Castagnoli) with the SSE4.2 crc32 instruction where the CPU has it
// (8 bytes a cycle or so), a table otherwise. Swift cannot reach the
// instruction itself; this is the one place that does.
#ifndef CWEFT_CRC32C_H
#define CWEFT_CRC32C_H
#include <stddef.h>
#include <stdint.h>

/// Continues `crc` (pass 0 to start) over `length` bytes at `bytes`: the
/// CRC-32C of the whole, with the usual pre- and post-inversion.
uint32_t cweft_crc32c(uint32_t crc, const void *bytes, size_t length);

/// 1 if the hardware instruction is used, 0 if the table is.
int cweft_crc32c_hardware(void);
#endif
