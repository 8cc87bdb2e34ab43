#include "CWeftCRC32C.h"
#include <string.h>

static uint32_t table[256];

static void build_table(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        table[i] = c;
    }
}

static uint32_t crc32c_table(uint32_t crc, const uint8_t *p, size_t n) {
    while (n--) crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2")))
static uint32_t crc32c_sse42(uint32_t crc, const uint8_t *p, size_t n) {
    uint64_t c = crc;
    while (n >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);   // unaligned load, little-endian as the CRC wants
        c = __builtin_ia32_crc32di(c, word);
        p += 8;
        n -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (n--) c32 = __builtin_ia32_crc32qi(c32, *p++);
    return c32;
}
#endif

typedef uint32_t (*crc_fn)(uint32_t, const uint8_t *, size_t);

// Chosen once, on first use; a race between two first calls picks the same one.
static crc_fn chosen;

static crc_fn choose(void) {
    if (chosen) return chosen;
    build_table();
#if defined(__x86_64__)
    __builtin_cpu_init();
    chosen = __builtin_cpu_supports("sse4.2") ? crc32c_sse42 : crc32c_table;
#else
    chosen = crc32c_table;
#endif
    return chosen;
}

uint32_t cweft_crc32c(uint32_t crc, const void *bytes, size_t length) {
    return ~choose()(~crc, (const uint8_t *)bytes, length);
}

int cweft_crc32c_hardware(void) {
#if defined(__x86_64__)
    return choose() == crc32c_sse42;
#else
    return 0;
#endif
}
