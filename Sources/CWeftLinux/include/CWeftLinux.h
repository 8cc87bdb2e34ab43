// Linux APIs that Swift's Glibc module does not export.
#ifndef CWEFT_LINUX_H
#define CWEFT_LINUX_H
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <malloc.h>

// accept4 is declared only under _GNU_SOURCE, which the Glibc module does not set.
extern int accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags);

// MSG_NOSIGNAL is a macro over an anonymous enum that Swift does not see.
static const int cweft_msg_nosignal = MSG_NOSIGNAL;

static inline int cweft_accept(int fd, int flags) { return accept4(fd, 0, 0, flags); }

// fallocate too is declared only under _GNU_SOURCE; FALLOC_FL_KEEP_SIZE comes from linux/falloc.h.
extern int fallocate(int fd, int mode, off_t offset, off_t len);
static const int cweft_falloc_keep_size = 0x01;  // FALLOC_FL_KEEP_SIZE

// SIGTERM and SIGINT blocked in the calling thread, and so in every thread it
// starts afterwards, and a descriptor that reads them: a signal sent at any
// moment after this call waits there, none is lost or acted on by default.
static inline int cweft_termination_signalfd(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (pthread_sigmask(SIG_BLOCK, &set, 0) != 0) return -1;
    return signalfd(-1, &set, SFD_CLOEXEC);
}

// mallopt(M_ARENA_MAX, n): M_ARENA_MAX is a negative macro Swift does not import.
static inline int cweft_malloc_arena_max(int arenas) { return mallopt(M_ARENA_MAX, arenas); }
#endif
