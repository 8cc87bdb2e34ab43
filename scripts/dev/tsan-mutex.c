// Synchronization.Mutex made visible to ThreadSanitizer, for
// scripts/dev/sanitize.sh thread (LD_PRELOAD; not part of any product).
//
// On Linux a Mutex is a PI futex. Uncontended it is taken and given back by
// compare-and-swaps inlined into the instrumented code, which TSan sees.
// Contended, the owner calls _MutexHandle._unlockSlow (FUTEX_UNLOCK_PI) and
// the waiter is in _MutexHandle._lockSlow (FUTEX_LOCK_PI), both in the
// uninstrumented libswiftSynchronization.so: the kernel passes the lock from
// one thread to the other and the futex word never goes through 0, so TSan
// sees no release/acquire pair and reports the two critical sections as a
// "Swift access race" on the guarded value (it did, on PeerDirectory's names
// under MeshTests). These wrappers tell TSan about that hand-over: a release
// on the mutex's word before the slow unlock, an acquire after a slow lock,
// the same address the inlined fast paths' atomics use. A race outside the
// lock is still reported.
//
// The slow paths are called from the inlined fast paths through the PLT, so a
// preloaded definition is the one called. self (the _MutexHandle, whose only
// field is the futex word) comes in Swift's self register (swift_context).
// Outside a TSan process __tsan_acquire/__tsan_release are null (weak) and the
// wrappers only forward.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>

#define SWIFTCC __attribute__((swiftcall))
#define SELF __attribute__((swift_context))
#define LOCK_SLOW "$s15Synchronization12_MutexHandleV9_lockSlowyys6UInt32VF"
#define TRY_LOCK_SLOW "$s15Synchronization12_MutexHandleV12_tryLockSlowSbyF"
#define UNLOCK_SLOW "$s15Synchronization12_MutexHandleV11_unlockSlowyyF"

extern void __tsan_acquire(void *addr) __attribute__((weak));
extern void __tsan_release(void *addr) __attribute__((weak));

typedef SWIFTCC void (*lock_slow_fn)(uint32_t self_id, void *SELF self);
typedef SWIFTCC bool (*try_lock_slow_fn)(void *SELF self);
typedef SWIFTCC void (*unlock_slow_fn)(void *SELF self);
static lock_slow_fn real_lock_slow;
static try_lock_slow_fn real_try_lock_slow;
static unlock_slow_fn real_unlock_slow;

// Resolved once, before any thread of the program runs.
__attribute__((constructor)) static void resolve(void) {
    real_lock_slow = (lock_slow_fn)dlsym(RTLD_NEXT, LOCK_SLOW);
    real_try_lock_slow = (try_lock_slow_fn)dlsym(RTLD_NEXT, TRY_LOCK_SLOW);
    real_unlock_slow = (unlock_slow_fn)dlsym(RTLD_NEXT, UNLOCK_SLOW);
}

SWIFTCC void weft_lock_slow(uint32_t self_id, void *SELF self) __asm__(LOCK_SLOW);
SWIFTCC bool weft_try_lock_slow(void *SELF self) __asm__(TRY_LOCK_SLOW);
SWIFTCC void weft_unlock_slow(void *SELF self) __asm__(UNLOCK_SLOW);

SWIFTCC void weft_lock_slow(uint32_t self_id, void *SELF self) {
    real_lock_slow(self_id, self);
    if (__tsan_acquire) __tsan_acquire(self);
}

SWIFTCC bool weft_try_lock_slow(void *SELF self) {
    bool locked = real_try_lock_slow(self);
    if (locked && __tsan_acquire) __tsan_acquire(self);
    return locked;
}

SWIFTCC void weft_unlock_slow(void *SELF self) {
    if (__tsan_release) __tsan_release(self);
    real_unlock_slow(self);
}
