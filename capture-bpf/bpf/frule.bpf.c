// SPDX-License-Identifier: GPL-2.0-only
//
// frule's syscall capture program.
//
// Events are written in libscap's event layout (26-byte packed header, one u16
// length per parameter, then the parameters, little-endian) with libscap's
// PPME numbering, so that one decoder in user space serves live capture and
// .scap replay. Only exit events are produced; each exit event carries the
// parameters that older captures put in the matching enter event, in the
// order of current falcosecurity/libs' event table.
//
// Flow of one syscall exit:
//   1. the syscall id is read from pt_regs->orig_ax and looked up in the
//      `interesting_syscalls` array; an uninteresting syscall costs one map
//      lookup and nothing else;
//   2. a variable-size event is assembled in this CPU's slot of `aux_maps` (a
//      128 KiB scratch area; events are capped at 64 KiB) and copied once into
//      the ring buffer chosen for this CPU with bpf_ringbuf_output; a fixed-size
//      one (close, procexit) is written in place into an exact-size
//      bpf_ringbuf_reserve slot; neither wakes the reader (BPF_RB_NO_WAKEUP):
//      user space polls in batches;
//   4. every outcome is counted in the per-CPU `counters` map.
//
// Every read of user or kernel memory is bounded (see the *_MAX constants) and
// every store into the scratch area goes through SAFE() so the verifier can
// prove it stays inside the 128 KiB value.

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "ppm_sc_table.h"
#include "ia32_table.h"

char LICENSE[] SEC("license") = "GPL";

/* ------------------------------------------------------------------------ */
/* Sizes and limits                                                          */

#define AUX_SIZE (128 * 1024)
#define MAX_EVENT_SIZE (64 * 1024)
#define SAFE(x) ((x) & (MAX_EVENT_SIZE - 1))
#define HEADER_LEN 26
#define PATH_MAX_READ 4096
#define ARGS_MAX 4096
#define ENV_MAX 4096
#define COMM_LEN 16
#define CGROUP_SUBSYS_MAX 8 /* push_cgroups lists subsys[0..7] */
#define CGROUP_DEPTH_MAX 6
#define CGROUP_NAME_MAX 256
#define UNIX_PATH_MAX 108
#define SYSCALL_TABLE_SIZE 512
/* Slot of `interesting_syscalls` that enables procexit (not a syscall). */
#define SLOT_PROCEXIT 512
/* Set: open events leave dev, ino and the created/overlay flag bits at 0 (no rule reads them) */
#define SLOT_NO_OPEN_FILE_PROPS 513
#define INTERESTING_SIZE 520

/* x86_64 syscall numbers we dispatch on. */
#define NR_open 2
#define NR_close 3
#define NR_socket 41
#define NR_connect 42
#define NR_accept 43
#define NR_bind 49
#define NR_listen 50
#define NR_clone 56
#define NR_fork 57
#define NR_vfork 58
#define NR_execve 59
#define NR_creat 85
#define NR_openat 257
#define NR_accept4 288
#define NR_execveat 322
#define NR_openat2 437
#define NR_clone3 435
#define NR_mprotect 10
#define NR_pipe 22
#define NR_dup 32
#define NR_dup2 33
#define NR_kill 62
#define NR_fcntl 72
#define NR_chdir 80
#define NR_fchdir 81
#define NR_rename 82
#define NR_mkdir 83
#define NR_rmdir 84
#define NR_link 86
#define NR_unlink 87
#define NR_symlink 88
#define NR_chmod 90
#define NR_fchmod 91
#define NR_chown 92
#define NR_fchown 93
#define NR_lchown 94
#define NR_setuid 105
#define NR_setgid 106
#define NR_setpgid 109
#define NR_setsid 112
#define NR_setreuid 113
#define NR_setregid 114
#define NR_setresuid 117
#define NR_setresgid 119
#define NR_chroot 161
#define NR_mount 165
#define NR_umount2 166
#define NR_mkdirat 258
#define NR_fchownat 260
#define NR_unlinkat 263
#define NR_renameat 264
#define NR_linkat 265
#define NR_symlinkat 266
#define NR_fchmodat 268
#define NR_unshare 272
#define NR_dup3 292
#define NR_pipe2 293
#define NR_setns 308
#define NR_renameat2 316
#define NR_memfd_create 319
#define NR_bpf 321
#define NR_userfaultfd 323
#define NR_sendto 44
#define NR_read 0
#define NR_write 1
#define NR_pread64 17
#define NR_pwrite64 18
#define NR_recvfrom 45
#define NR_sendmsg 46
#define NR_recvmsg 47
#define NR_socketpair 53
#define NR_ptrace 101
#define NR_init_module 175
#define NR_finit_module 313

/* PPME event codes (libscap numbering). */
#define PPME_GENERIC_X 1
#define PPME_SYSCALL_OPEN_X 3
#define PPME_SYSCALL_CLOSE_X 5
#define PPME_SOCKET_SOCKET_X 19
#define PPME_SOCKET_BIND_X 21
#define PPME_SOCKET_CONNECT_X 23
#define PPME_SOCKET_LISTEN_X 25
#define PPME_SYSCALL_CREAT_X 59
#define PPME_PROCEXIT_1_E 186
#define PPME_SYSCALL_CLONE_20_X 223
#define PPME_SYSCALL_FORK_20_X 225
#define PPME_SYSCALL_VFORK_20_X 227
#define PPME_SOCKET_ACCEPT_5_X 247
#define PPME_SYSCALL_EXECVE_19_X 293
#define PPME_SYSCALL_OPENAT_2_X 307
#define PPME_SYSCALL_OPENAT2_X 327
#define PPME_SYSCALL_EXECVEAT_X 331
#define PPME_SYSCALL_CLONE3_X 335
#define PPME_SOCKET_ACCEPT4_6_X 389
#define PPME_SYSCALL_PIPE_X 61
#define PPME_SYSCALL_CHDIR_X 95
#define PPME_SYSCALL_FCHDIR_X 97
#define PPME_SYSCALL_KILL_X 129
#define PPME_SYSCALL_FCNTL_X 151
#define PPME_SYSCALL_RENAME_X 175
#define PPME_SYSCALL_RENAMEAT_X 177
#define PPME_SYSCALL_SYMLINK_X 179
#define PPME_SYSCALL_SYMLINKAT_X 181
#define PPME_SYSCALL_SETRESUID_X 193
#define PPME_SYSCALL_SETRESGID_X 195
#define PPME_SYSCALL_SETUID_X 199
#define PPME_SYSCALL_SETGID_X 201
#define PPME_SYSCALL_SETNS_X 241
#define PPME_SYSCALL_MOUNT_X 257
#define PPME_SYSCALL_CHROOT_X 267
#define PPME_SYSCALL_SETSID_X 275
#define PPME_SYSCALL_MKDIR_2_X 277
#define PPME_SYSCALL_RMDIR_2_X 279
#define PPME_SYSCALL_UNSHARE_X 285
#define PPME_SYSCALL_SETPGID_X 295
#define PPME_SYSCALL_UNLINK_2_X 301
#define PPME_SYSCALL_UNLINKAT_2_X 303
#define PPME_SYSCALL_MKDIRAT_X 305
#define PPME_SYSCALL_LINK_2_X 309
#define PPME_SYSCALL_LINKAT_2_X 311
#define PPME_SYSCALL_FCHMODAT_X 313
#define PPME_SYSCALL_CHMOD_X 315
#define PPME_SYSCALL_FCHMOD_X 317
#define PPME_SYSCALL_RENAMEAT2_X 319
#define PPME_SYSCALL_USERFAULTFD_X 321
#define PPME_SYSCALL_MPROTECT_X 329
#define PPME_SYSCALL_DUP2_X 363
#define PPME_SYSCALL_DUP3_X 365
#define PPME_SYSCALL_DUP_1_X 367
#define PPME_SYSCALL_BPF_2_X 369
#define PPME_SYSCALL_CHOWN_X 379
#define PPME_SYSCALL_LCHOWN_X 381
#define PPME_SYSCALL_FCHOWN_X 383
#define PPME_SYSCALL_FCHOWNAT_X 385
#define PPME_SYSCALL_UMOUNT2_X 391
#define PPME_SYSCALL_PIPE2_X 393
#define PPME_SYSCALL_MEMFD_CREATE_X 405
#define PPME_SYSCALL_SETREUID_X 427
#define PPME_SYSCALL_SETREGID_X 429
#define PPME_SOCKET_SENDTO_X 31
#define PPME_SYSCALL_READ_X 7
#define PPME_SYSCALL_WRITE_X 9
#define PPME_SYSCALL_PREAD_X 113
#define PPME_SYSCALL_PWRITE_X 115
#define PPME_SOCKET_RECVFROM_X 35
#define PPME_SOCKET_SOCKETPAIR_X 43
#define PPME_SOCKET_SENDMSG_X 49
#define PPME_SOCKET_RECVMSG_X 53
#define PPME_SYSCALL_PTRACE_X 169
#define PPME_SYSCALL_INIT_MODULE_X 411
#define PPME_SYSCALL_FINIT_MODULE_X 413

/* Kernel constants not in BTF. */
#define AT_FDCWD_VAL -100
#define PPM_AT_FDCWD -100
#define EINPROGRESS_VAL 115
#define K_AF_UNIX 1
#define K_AF_INET 2
#define K_AF_INET6 10
#define K_O_ACCMODE 3
#define K_O_WRONLY 1
#define K_O_RDWR 2
#define K_O_CREAT 0100
#define K_O_EXCL 0200
#define K_O_TRUNC 01000
#define K_O_APPEND 02000
#define K_O_NONBLOCK 04000
#define K_O_DSYNC 010000
#define K_O_DIRECT 040000
#define K_O_LARGEFILE 0100000
#define K_O_DIRECTORY 0200000
#define K_O_CLOEXEC 02000000
#define K_O_SYNC 04010000
#define K_O_TMPFILE 020200000
#define K_FMODE_CREATED 0x100000
#define K_CLONE_VM 0x00000100
#define K_CLONE_FS 0x00000200
#define K_CLONE_FILES 0x00000400
#define K_CLONE_SIGHAND 0x00000800
#define K_CLONE_PTRACE 0x00002000
#define K_CLONE_VFORK 0x00004000
#define K_CLONE_PARENT 0x00008000
#define K_CLONE_THREAD 0x00010000
#define K_CLONE_NEWNS 0x00020000
#define K_CLONE_SYSVSEM 0x00040000
#define K_CLONE_SETTLS 0x00080000
#define K_CLONE_PARENT_SETTID 0x00100000
#define K_CLONE_CHILD_CLEARTID 0x00200000
#define K_CLONE_UNTRACED 0x00800000
#define K_CLONE_CHILD_SETTID 0x01000000
#define K_CLONE_NEWCGROUP 0x02000000
#define K_CLONE_NEWUTS 0x04000000
#define K_CLONE_NEWIPC 0x08000000
#define K_CLONE_NEWUSER 0x10000000
#define K_CLONE_NEWPID 0x20000000
#define K_CLONE_NEWNET 0x40000000
#define K_CLONE_IO 0x80000000
#define K_SIGCHLD 17
#define K_RLIMIT_NOFILE 7
#define K_PAGE_SHIFT 12
#define K_MM_FILEPAGES 0
#define K_MM_ANONPAGES 1
#define K_MM_SWAPENTS 2
#define K_MM_SHMEMPAGES 3

/* PPM flag values (libscap's ppm_events_public.h). */
#define PPM_O_RDONLY (1 << 0)
#define PPM_O_WRONLY (1 << 1)
#define PPM_O_RDWR (PPM_O_RDONLY | PPM_O_WRONLY)
#define PPM_O_CREAT (1 << 2)
#define PPM_O_APPEND (1 << 3)
#define PPM_O_DSYNC (1 << 4)
#define PPM_O_EXCL (1 << 5)
#define PPM_O_NONBLOCK (1 << 6)
#define PPM_O_SYNC (1 << 7)
#define PPM_O_TRUNC (1 << 8)
#define PPM_O_DIRECT (1 << 9)
#define PPM_O_DIRECTORY (1 << 10)
#define PPM_O_LARGEFILE (1 << 11)
#define PPM_O_CLOEXEC (1 << 12)
#define PPM_O_TMPFILE (1 << 13)
#define PPM_O_F_CREATED (1 << 14)
#define PPM_AF_UNIX 1
#define PPM_AF_INET 2
#define PPM_AF_INET6 10
#define PPM_CL_CLONE_FILES (1 << 0)
#define PPM_CL_CLONE_FS (1 << 1)
#define PPM_CL_CLONE_IO (1 << 2)
#define PPM_CL_CLONE_NEWIPC (1 << 3)
#define PPM_CL_CLONE_NEWNET (1 << 4)
#define PPM_CL_CLONE_NEWNS (1 << 5)
#define PPM_CL_CLONE_NEWPID (1 << 6)
#define PPM_CL_CLONE_NEWUTS (1 << 7)
#define PPM_CL_CLONE_PARENT (1 << 8)
#define PPM_CL_CLONE_PARENT_SETTID (1 << 9)
#define PPM_CL_CLONE_PTRACE (1 << 10)
#define PPM_CL_CLONE_SIGHAND (1 << 11)
#define PPM_CL_CLONE_SYSVSEM (1 << 12)
#define PPM_CL_CLONE_THREAD (1 << 13)
#define PPM_CL_CLONE_UNTRACED (1 << 14)
#define PPM_CL_CLONE_VM (1 << 15)
#define PPM_CL_CLONE_NEWUSER (1 << 20)
#define PPM_CL_CLONE_CHILD_CLEARTID (1 << 23)
#define PPM_CL_CLONE_CHILD_SETTID (1 << 24)
#define PPM_CL_CLONE_SETTLS (1 << 25)
#define PPM_CL_CLONE_VFORK (1 << 27)
#define PPM_CL_CLONE_NEWCGROUP (1 << 28)
#define PPM_CL_CHILD_IN_PIDNS (1 << 29)

/* ------------------------------------------------------------------------ */
/* Maps and settings                                                         */

/* Set by the loader before load: ns between the epoch and boot (CLOCK_BOOTTIME 0). */
const volatile __u64 boot_time = 0;
/* Set by the loader: bytes of I/O payload kept in send/recv events (Falco's default 80). */
const volatile __u32 snaplen = 80;

/* Drop and event counters, one struct per CPU. Field order is ABI with the loader. */
struct counters {
	__u64 n_evts;              /* events written to a ring buffer */
	__u64 n_drops_buffer;      /* ring buffer full */
	__u64 n_drops_max_event;   /* event larger than MAX_EVENT_SIZE */
	__u64 n_drops_no_ring;     /* no ring buffer for this CPU */
	__u64 n_drops_no_aux;      /* scratch area missing */
	__u64 n_drops_buffer_proc; /* ring full, by category: clone/fork/execve/procexit */
	__u64 n_drops_buffer_open; /* ring full: open/openat/openat2/creat/close */
	__u64 n_drops_buffer_net;  /* ring full: socket/connect/accept/bind/listen */
	__u64 n_drops_buffer_other; /* ring full: every other syscall */
	__u64 n_toctou_used;       /* exit events that used the entry-time copy */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct counters);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, INTERESTING_SIZE);
	__type(key, __u32);
	__type(value, __u8);
} interesting_syscalls SEC(".maps");

/* 8-byte aligned, as the kernel allocates every map value: clang then emits one store for a
 * header field at a constant, suitably aligned offset instead of splitting it into bytes. */
struct aux {
	__u8 data[AUX_SIZE];
} __attribute__((aligned(8)));

/* One scratch area per CPU; max_entries is set to the number of possible CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct aux);
} aux_maps SEC(".maps");

/* CPU index -> ring buffer; the loader creates the rings and fills this. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_RINGBUF);
		__uint(max_entries, 4096);
	});
} ringbuf_maps SEC(".maps");

/* TOCTOU mitigation: the path (open family) or sockaddr (connect) copied from user
 * memory at syscall entry into the thread's own task-local storage, consumed at exit
 * (nr reset to 0). An entry whose `nr` differs from the exiting syscall is stale and
 * ignored. The kernel keeps one entry per task that made a copy and frees it with the
 * task; a lookup is a pointer chase from the task, not a hash probe. */
#define TOCTOU_BUF 4096
struct toctou_entry {
	__u32 nr;
	__u32 len;
	__u8 buf[TOCTOU_BUF];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct toctou_entry);
} toctou_args SEC(".maps");

/* ------------------------------------------------------------------------ */
/* Event assembly                                                            */

enum category { CAT_PROC, CAT_OPEN, CAT_NET, CAT_OTHER };

struct ev {
	struct aux *a;
	__u64 pos;    /* next free byte of the parameter area */
	__u32 n;      /* parameters written so far */
	__u32 nparams;
	__u32 cpu;    /* the CPU whose scratch area and ring buffer the event uses */
};

/* One load or store at any alignment: clang splits an access it cannot prove aligned (a
 * param's offset follows the variable-length params before it) into byte accesses plus shifts,
 * fifteen instructions for a u64, which x86 and the verifier (for a privileged program, on an
 * architecture with efficient unaligned access) do not need. */
static __always_inline void store_u64(void *dst, __u64 v)
{
	asm volatile("*(u64 *)(%[d] + 0) = %[v]" ::[d] "r"(dst), [v] "r"(v) : "memory");
}

static __always_inline void store_u32(void *dst, __u32 v)
{
	asm volatile("*(u32 *)(%[d] + 0) = %[v]" ::[d] "r"(dst), [v] "r"(v) : "memory");
}

static __always_inline void store_u16(void *dst, __u16 v)
{
	asm volatile("*(u16 *)(%[d] + 0) = %[v]" ::[d] "r"(dst), [v] "r"(v) : "memory");
}

static __always_inline __u64 load_u64(const void *src)
{
	__u64 v;
	asm volatile("%[v] = *(u64 *)(%[s] + 0)" : [v] "=r"(v) : [s] "r"(src) : "memory");
	return v;
}

static __always_inline struct counters *get_counters(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&counters, &zero);
}

static __always_inline int ev_begin(struct ev *e, __u16 type, __u32 nparams, __u64 tid)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct aux *a = bpf_map_lookup_elem(&aux_maps, &cpu);
	if (!a) {
		struct counters *c = get_counters();
		if (c)
			c->n_drops_no_aux++;
		return 0;
	}
	e->a = a;
	e->cpu = cpu;
	e->n = 0;
	e->nparams = nparams;
	e->pos = HEADER_LEN + 2 * nparams;
	__u64 ts = boot_time + bpf_ktime_get_boot_ns();
	*(__u64 *)&a->data[0] = ts;
	*(__u64 *)&a->data[8] = tid;
	/* len at 16 is written by ev_submit */
	*(__u16 *)&a->data[20] = type;
	store_u32(&a->data[22], nparams); /* offset 22: not 4-aligned */
	return 1;
}

static __always_inline void set_len(struct ev *e, __u16 len)
{
	__u64 off = HEADER_LEN + 2 * (__u64)e->n;
	store_u16(&e->a->data[SAFE(off)], len);
	e->n++;
	e->pos += len;
}

static __always_inline void push_u64(struct ev *e, __u64 v)
{
	store_u64(&e->a->data[SAFE(e->pos)], v);
	set_len(e, 8);
}

static __always_inline void push_u32(struct ev *e, __u32 v)
{
	store_u32(&e->a->data[SAFE(e->pos)], v);
	set_len(e, 4);
}

static __always_inline void push_u16(struct ev *e, __u16 v)
{
	store_u16(&e->a->data[SAFE(e->pos)], v);
	set_len(e, 2);
}

static __always_inline void push_u8(struct ev *e, __u8 v)
{
	e->a->data[SAFE(e->pos)] = v;
	set_len(e, 1);
}

static __always_inline void push_empty(struct ev *e)
{
	set_len(e, 0);
}

/* A NUL-terminated string from user memory, NUL counted; empty on failure. */
static __always_inline void push_user_str(struct ev *e, const void *ptr, __u32 max)
{
	long r = 0;
	if (ptr)
		r = bpf_probe_read_user_str(&e->a->data[SAFE(e->pos)], max & (PATH_MAX_READ * 2 - 1), ptr);
	set_len(e, r > 0 ? (__u16)r : 0);
}

static __always_inline void push_kernel_str(struct ev *e, const void *ptr, __u32 max)
{
	long r = 0;
	if (ptr)
		r = bpf_probe_read_kernel_str(&e->a->data[SAFE(e->pos)], max & (PATH_MAX_READ * 2 - 1), ptr);
	set_len(e, r > 0 ? (__u16)r : 0);
}

/* A string param that is always present: "" when nothing better is known. */
static __always_inline void push_empty_str(struct ev *e)
{
	e->a->data[SAFE(e->pos)] = 0;
	set_len(e, 1);
}

static __always_inline void count_buffer_drop(struct counters *c, enum category cat)
{
	if (!c)
		return;
	c->n_drops_buffer++;
	if (cat == CAT_PROC)
		c->n_drops_buffer_proc++;
	else if (cat == CAT_OPEN)
		c->n_drops_buffer_open++;
	else if (cat == CAT_NET)
		c->n_drops_buffer_net++;
	else
		c->n_drops_buffer_other++;
}

static __always_inline void ev_submit(struct ev *e, enum category cat)
{
	struct counters *c = get_counters();
	__u64 len = e->pos;
	if (len > MAX_EVENT_SIZE) {
		if (c)
			c->n_drops_max_event++;
		return;
	}
	*(__u32 *)&e->a->data[16] = (__u32)len;
	void *rb = bpf_map_lookup_elem(&ringbuf_maps, &e->cpu);
	if (!rb) {
		if (c)
			c->n_drops_no_ring++;
		return;
	}
	/* len is bounded by MAX_EVENT_SIZE above; the mask keeps the verifier convinced. */
	if (bpf_ringbuf_output(rb, e->a->data, len & (AUX_SIZE - 1), BPF_RB_NO_WAKEUP) != 0) {
		count_buffer_drop(c, cat);
		return;
	}
	if (c)
		c->n_evts++;
}

/* Fixed-size events (close, procexit) skip the scratch area: the exact size is reserved in
 * this CPU's ring and the event is written in place, so nothing is copied. `size` must be a
 * compile-time constant (the verifier requires one for bpf_ringbuf_reserve). Returns NULL,
 * with the drop counted, when there is no ring or it is full. */
static __always_inline __u8 *fixed_begin(__u32 size, __u16 type, __u32 nparams, __u64 tid,
					 enum category cat)
{
	__u32 cpu = bpf_get_smp_processor_id();
	void *rb = bpf_map_lookup_elem(&ringbuf_maps, &cpu);
	if (!rb) {
		struct counters *c = get_counters();
		if (c)
			c->n_drops_no_ring++;
		return NULL;
	}
	__u8 *p = bpf_ringbuf_reserve(rb, size, 0);
	if (!p) {
		count_buffer_drop(get_counters(), cat);
		return NULL;
	}
	*(__u64 *)&p[0] = boot_time + bpf_ktime_get_boot_ns();
	*(__u64 *)&p[8] = tid;
	*(__u32 *)&p[16] = size;
	*(__u16 *)&p[20] = type;
	*(__u32 *)&p[22] = nparams;
	return p;
}

static __always_inline void fixed_submit(__u8 *p)
{
	bpf_ringbuf_submit(p, BPF_RB_NO_WAKEUP);
	struct counters *c = get_counters();
	if (c)
		c->n_evts++;
}

/* ------------------------------------------------------------------------ */
/* Kernel extraction helpers                                                 */

static __always_inline int interesting(__u32 slot)
{
	__u8 *v = bpf_map_lookup_elem(&interesting_syscalls, &slot);
	return v && *v;
}

/* The syscall arguments, read once from pt_regs (x86_64 order) and handed
 * to the global emitters by pointer: they cannot take the tp_btf pt_regs
 * pointer itself. */
struct sc_args {
	__u64 a[6];
	/* set for an ia32 syscall (a 32-bit process, or `int $0x80`): user structs that hold
	 * pointers (msghdr, iovec) have the 32-bit layout */
	__u64 compat;
};

/* regs must be a BTF pointer (from bpf_task_pt_regs): direct loads. */
static __always_inline void read_args(struct sc_args *args, struct pt_regs *regs)
{
	args->a[0] = regs->di;
	args->a[1] = regs->si;
	args->a[2] = regs->dx;
	args->a[3] = regs->r10;
	args->a[4] = regs->r8;
	args->a[5] = regs->r9;
	args->compat = 0;
}

/* The thread status bit x86 sets while an ia32 syscall runs (arch/x86 thread_info.h). */
#define TS_COMPAT 0x0002
#define IA32_SOCKETCALL 102

/* Whether the current syscall is an ia32 one: its number is then of the 32-bit table and its
 * arguments are in ebx, ecx, edx, esi, edi, ebp. A 32-bit binary, or 64-bit code issuing
 * `int $0x80`, would otherwise be read with the wrong numbering (ia32 open is x86_64 fstat)
 * and slip past the rules, a known way around syscall monitors. */
static __always_inline int in_ia32_syscall(struct task_struct *task)
{
	return (task->thread_info.status & TS_COMPAT) != 0;
}

static __always_inline void read_args_ia32(struct sc_args *args, struct pt_regs *regs)
{
	args->a[0] = (__u32)regs->bx;
	args->a[1] = (__u32)regs->cx;
	args->a[2] = (__u32)regs->dx;
	args->a[3] = (__u32)regs->si;
	args->a[4] = (__u32)regs->di;
	args->a[5] = (__u32)regs->bp;
	args->compat = 1;
}

/* ia32 socketcall(call, args): the x86_64 socket syscall it stands for, with its arguments
 * (32-bit words in user memory) moved into `args`; -1 for a call frule has no event for. send
 * and recv are sendto and recvfrom without an address. */
static __always_inline long socketcall_demux(struct sc_args *args)
{
	long nr;
	__u32 n;
	switch ((__u32)args->a[0]) {
	case 1: nr = NR_socket; n = 3; break;
	case 2: nr = NR_bind; n = 3; break;
	case 3: nr = NR_connect; n = 3; break;
	case 4: nr = NR_listen; n = 2; break;
	case 5: nr = NR_accept; n = 3; break;
	case 8: nr = NR_socketpair; n = 4; break;
	case 9: nr = NR_sendto; n = 4; break;
	case 10: nr = NR_recvfrom; n = 4; break;
	case 11: nr = NR_sendto; n = 6; break;
	case 12: nr = NR_recvfrom; n = 6; break;
	case 16: nr = NR_sendmsg; n = 3; break;
	case 17: nr = NR_recvmsg; n = 3; break;
	case 18: nr = NR_accept4; n = 4; break;
	default: return -1;
	}
	__u32 w[6] = {};
	if (bpf_probe_read_user(w, n * sizeof(__u32), (const void *)args->a[1]) != 0)
		return -1;
	for (int i = 0; i < 6; i++)
		args->a[i] = w[i];
	return nr;
}

#define sc_arg(args, i) ((args)->a[(i)])

/* The task's files_struct and its current fd table (both BTF pointers), or NULL. */
static __always_inline struct fdtable *task_fdtable(struct task_struct *task,
						    struct files_struct **files)
{
	*files = task->files;
	return *files ? (*files)->fdt : NULL;
}

/* The current task's struct file for fd. The walk from the BTF task pointer uses direct
 * (fault-tolerant) loads, which cost far less than one probe-read helper call per hop;
 * only the indexed slot needs a helper. */
static __always_inline struct file *file_from_fd(struct task_struct *task, __s32 fd)
{
	if (fd < 0)
		return NULL;
	struct files_struct *files;
	struct fdtable *fdt = task_fdtable(task, &files);
	if (!fdt)
		return NULL;
	unsigned int max = fdt->max_fds;
	if ((unsigned int)fd >= max)
		return NULL;
	struct file **fds = fdt->fd;
	struct file *f = NULL;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

/* fd's struct file as a BTF pointer, or NULL when fd is not in the table's embedded array.
 * A process whose table never grew past NR_OPEN_DEFAULT (64) slots uses the fd_array inside
 * its files_struct (fdt->fd points at it); a slot there is reachable by a load at a constant
 * offset, which the verifier accepts on a BTF pointer (a variable offset it does not), hence
 * one case per slot: clang turns the switch into a binary search of six compares, and the
 * file's fields are then plain loads too, where a grown table costs four probe reads
 * (file_from_fd, open_file_props). A table grows when a descriptor of 64 or more is open,
 * and a child's table is sized at fork by the parent's highest open descriptor: a process
 * forked by an interactive or script bash (which keeps fd 255) starts with a grown table,
 * one forked by a parent with few descriptors (systemd services, container inits, most
 * daemons' workers) with the embedded one. */
#define FD_ARRAY_LEN 64
#define FD_SLOT(n)                                   \
	case n:                                      \
		f = files->fd_array[n];              \
		break;
#define FD_SLOT8(n) FD_SLOT(n) FD_SLOT(n + 1) FD_SLOT(n + 2) FD_SLOT(n + 3) \
	FD_SLOT(n + 4) FD_SLOT(n + 5) FD_SLOT(n + 6) FD_SLOT(n + 7)
static __always_inline struct file *fd_array_file(struct task_struct *task, __s32 fd)
{
	if (fd < 0 || fd >= FD_ARRAY_LEN)
		return NULL;
	struct files_struct *files;
	struct fdtable *fdt = task_fdtable(task, &files);
	if (!fdt || (__u64)fdt->fd != (__u64)&files->fd_array[0])
		return NULL;
	struct file *f = NULL;
	switch (fd) {
	FD_SLOT8(0) FD_SLOT8(8) FD_SLOT8(16) FD_SLOT8(24)
	FD_SLOT8(32) FD_SLOT8(40) FD_SLOT8(48) FD_SLOT8(56)
	}
	return f;
}

static __always_inline __u32 encode_dev(__u32 dev)
{
	__u32 major = dev >> 20;
	__u32 minor = dev & ((1U << 20) - 1);
	return (minor & 0xff) | (major << 8) | ((minor & ~0xffU) << 12);
}

static __always_inline __u32 open_flags_to_ppm(__u32 flags)
{
	__u32 res;
	switch (flags & K_O_ACCMODE) {
	case K_O_WRONLY: res = PPM_O_WRONLY; break;
	case K_O_RDWR: res = PPM_O_RDWR; break;
	default: res = PPM_O_RDONLY; break;
	}
	if (flags & K_O_CREAT) res |= PPM_O_CREAT;
	if ((flags & K_O_TMPFILE) == K_O_TMPFILE) res |= PPM_O_TMPFILE;
	if (flags & K_O_APPEND) res |= PPM_O_APPEND;
	if (flags & K_O_DSYNC) res |= PPM_O_DSYNC;
	if (flags & K_O_EXCL) res |= PPM_O_EXCL;
	if (flags & K_O_NONBLOCK) res |= PPM_O_NONBLOCK;
	if ((flags & K_O_SYNC) == K_O_SYNC) res |= PPM_O_SYNC;
	if (flags & K_O_TRUNC) res |= PPM_O_TRUNC;
	if (flags & K_O_DIRECT) res |= PPM_O_DIRECT;
	if (flags & K_O_DIRECTORY) res |= PPM_O_DIRECTORY;
	if (flags & K_O_LARGEFILE) res |= PPM_O_LARGEFILE;
	if (flags & K_O_CLOEXEC) res |= PPM_O_CLOEXEC;
	return res;
}

/* Permission bits use the kernel's values; only meaningful with O_CREAT/O_TMPFILE. */
static __always_inline __u32 open_mode_to_ppm(__u32 flags, __u32 mode)
{
	if (!(flags & (K_O_CREAT | K_O_TMPFILE)))
		return 0;
	return mode & 07777;
}

static __always_inline __u32 clone_flags_to_ppm(__u64 f)
{
	__u32 r = 0;
	if (f & K_CLONE_FILES) r |= PPM_CL_CLONE_FILES;
	if (f & K_CLONE_FS) r |= PPM_CL_CLONE_FS;
	if (f & K_CLONE_IO) r |= PPM_CL_CLONE_IO;
	if (f & K_CLONE_NEWIPC) r |= PPM_CL_CLONE_NEWIPC;
	if (f & K_CLONE_NEWNET) r |= PPM_CL_CLONE_NEWNET;
	if (f & K_CLONE_NEWNS) r |= PPM_CL_CLONE_NEWNS;
	if (f & K_CLONE_NEWPID) r |= PPM_CL_CLONE_NEWPID;
	if (f & K_CLONE_NEWUTS) r |= PPM_CL_CLONE_NEWUTS;
	if (f & K_CLONE_PARENT_SETTID) r |= PPM_CL_CLONE_PARENT_SETTID;
	if (f & K_CLONE_PARENT) r |= PPM_CL_CLONE_PARENT;
	if (f & K_CLONE_PTRACE) r |= PPM_CL_CLONE_PTRACE;
	if (f & K_CLONE_SIGHAND) r |= PPM_CL_CLONE_SIGHAND;
	if (f & K_CLONE_SYSVSEM) r |= PPM_CL_CLONE_SYSVSEM;
	if (f & K_CLONE_THREAD) r |= PPM_CL_CLONE_THREAD;
	if (f & K_CLONE_UNTRACED) r |= PPM_CL_CLONE_UNTRACED;
	if (f & K_CLONE_VM) r |= PPM_CL_CLONE_VM;
	if (f & K_CLONE_NEWUSER) r |= PPM_CL_CLONE_NEWUSER;
	if (f & K_CLONE_CHILD_CLEARTID) r |= PPM_CL_CLONE_CHILD_CLEARTID;
	if (f & K_CLONE_CHILD_SETTID) r |= PPM_CL_CLONE_CHILD_SETTID;
	if (f & K_CLONE_SETTLS) r |= PPM_CL_CLONE_SETTLS;
	if (f & K_CLONE_VFORK) r |= PPM_CL_CLONE_VFORK;
	if (f & K_CLONE_NEWCGROUP) r |= PPM_CL_CLONE_NEWCGROUP;
	return r;
}

static __always_inline __u8 family_to_ppm(__u16 family)
{
	if (family == K_AF_INET) return PPM_AF_INET;
	if (family == K_AF_INET6) return PPM_AF_INET6;
	if (family == K_AF_UNIX) return PPM_AF_UNIX;
	return (__u8)family;
}

/* ------------------------------------------------------------------------ */
/* Process fields                                                            */

/* exe (argv[0]) and args (the rest, NUL-separated) from the mm's argument area. */
/* `task` is a BTF pointer (bpf_get_current_task_btf) in every caller of the process-field
 * helpers: fields are plain loads, which the JIT turns into fault-tolerant moves, instead of
 * one probe-read helper call each. */
static __always_inline void push_exe_args(struct ev *e, struct task_struct *task)
{
	struct mm_struct *mm = task->mm;
	unsigned long start = 0, end = 0;
	if (mm) {
		start = mm->arg_start;
		end = mm->arg_end;
	}
	if (!mm || end <= start) {
		push_empty_str(e);
		push_empty(e);
		return;
	}
	unsigned long total = end - start;
	if (total > ARGS_MAX)
		total = ARGS_MAX;
	long r = bpf_probe_read_user_str(&e->a->data[SAFE(e->pos)], ARGS_MAX, (void *)start);
	if (r <= 0) {
		push_empty_str(e);
		push_empty(e);
		return;
	}
	set_len(e, (__u16)r);
	if ((unsigned long)r >= total) {
		push_empty(e);
		return;
	}
	unsigned long rest = total - r;
	rest &= (ARGS_MAX - 1);
	if (rest == 0 || bpf_probe_read_user(&e->a->data[SAFE(e->pos)], rest, (void *)(start + r)) != 0) {
		push_empty(e);
		return;
	}
	/* A truncated area must still end with a NUL. */
	e->a->data[SAFE(e->pos + rest - 1)] = 0;
	set_len(e, (__u16)rest);
}

static __always_inline void push_env(struct ev *e, struct task_struct *task)
{
	struct mm_struct *mm = task->mm;
	unsigned long start = 0, end = 0;
	if (mm) {
		start = mm->env_start;
		end = mm->env_end;
	}
	if (!mm || end <= start) {
		push_empty(e);
		return;
	}
	unsigned long total = end - start;
	if (total > ENV_MAX)
		total = ENV_MAX;
	total &= (ENV_MAX * 2 - 1);
	if (total == 0 || bpf_probe_read_user(&e->a->data[SAFE(e->pos)], total, (void *)start) != 0) {
		push_empty(e);
		return;
	}
	e->a->data[SAFE(e->pos + total - 1)] = 0;
	set_len(e, (__u16)total);
}

/* One probe read per kernel object instead of one per field: the first bytes of the object,
 * up to the end of the last field needed, are copied into a window of the scratch area
 * (past anything an event or the path walk uses) and the fields are taken from there at
 * their CO-RE relocated offsets. The end offset is a relocated constant, so the verifier
 * sees a constant size. */
#define SPAN_SCRATCH (MAX_EVENT_SIZE + 16384)
#define SPAN_MAX 512
#define FIELD_END(type, field) (bpf_core_field_offset(type, field) + bpf_core_field_size(type, field))
#define MAX2(x, y) ((x) > (y) ? (x) : (y))
#define SPAN_GET(a, slot, ctype, type, field) \
	(*(ctype *)&(a)->data[SPAN_SCRATCH + (slot) * SPAN_MAX + bpf_core_field_offset(type, field)])

/* A failed read leaves zeros (bpf_probe_read_kernel clears the destination), so a field
 * taken after a failure reads 0, as BPF_CORE_READ gives. */
static __always_inline long read_span(struct aux *a, __u32 slot, const void *obj, __u32 end)
{
	if (end == 0 || end > SPAN_MAX)
		return -1;
	return bpf_probe_read_kernel(&a->data[SPAN_SCRATCH + slot * SPAN_MAX], end, obj);
}

/* One kernfs path: components collected leaf-first, written root-first. */
/* Global (separately verified) so its loops are verified once, not per caller path. */
__noinline int fr_kernfs_path(struct aux *a, __u64 at, __u64 kn_addr)
{
	struct kernfs_node *kn = (struct kernfs_node *)kn_addr;
	if (!a)
		return 0;
	const char *names[CGROUP_DEPTH_MAX];
	int depth = 0;
	/* parent and name in one probe read per level (they are neighbours in kernfs_node) */
	__u32 end = 0;
	if (bpf_core_field_exists(kn->__parent))
		end = MAX2(FIELD_END(struct kernfs_node, __parent), FIELD_END(struct kernfs_node, name));
	for (int i = 0; i < CGROUP_DEPTH_MAX; i++) {
		if (!kn || end == 0)
			break;
		if (read_span(a, 3, kn, end) != 0)
			break;
		struct kernfs_node *parent = SPAN_GET(a, 3, struct kernfs_node *, struct kernfs_node, __parent);
		if (!parent)
			break; /* the root's name is "" */
		names[i] = SPAN_GET(a, 3, const char *, struct kernfs_node, name);
		depth = i + 1;
		kn = parent;
	}
	__u32 written = 0;
	if (depth == 0) {
		a->data[SAFE(at)] = '/';
		return 1;
	}
	for (int i = CGROUP_DEPTH_MAX - 1; i >= 0; i--) {
		if (i >= depth)
			continue;
		a->data[SAFE(at + written)] = '/';
		written++;
		written &= 0x3fff;
		long r = bpf_probe_read_kernel_str(&a->data[SAFE(at + written)], CGROUP_NAME_MAX, names[i]);
		if (r > 1)
			written += r - 1; /* drop the NUL */
		written &= 0x3fff;
	}
	return written;
}

/* "subsys=/path\0" for the first subsystems of the current task's css_set. The css_set, each
 * css, its subsystem's name pointer and its cgroup are plain loads from the BTF task pointer
 * (every subsys[] index is a constant offset), leaving one read for the kernfs node, one
 * string read for the subsystem's name and the kernfs walk. Subsystems sharing a cgroup (the
 * unified hierarchy, or v1 controllers mounted together) copy the path already written for
 * the first of them instead of walking it again.
 *
 * Verification cost: each entry has four early exits and leaves `at` at a different unknown
 * offset, so eight entries inlined one after the other gave the verifier up to 4^8 distinct
 * paths to walk (about 7 s per program that pushes cgroups, most of the capture's load
 * time). Each entry is therefore a global function, verified once on its own: its caller
 * sees only that the walk state on its stack was rewritten. The walk state is plain numbers
 * (a global function's memory argument holds no pointers). */
struct cgroup_walk {
	__u64 start;
	__u64 at;
	__u64 prev_at;
	__u64 prev_kn;
	__u32 prev_len;
	__u32 pad;
};

/* One "subsys=/path\0" entry for the current task's css subsys[idx] (idx < CGROUP_SUBSYS_MAX),
 * written at w->at in `a`; w->at moves past it. Returns 0. */
__noinline int fr_one_cgroup(struct aux *a, struct cgroup_walk *w, __u32 idx)
{
	if (!a || !w)
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	struct css_set *cs = task->cgroups;
	if (!cs)
		return 0;
	struct cgroup_subsys_state *css;
	/* constant indices: each subsys[] load is a plain load at a fixed offset */
	switch (idx) {
	case 0: css = cs->subsys[0]; break;
	case 1: css = cs->subsys[1]; break;
	case 2: css = cs->subsys[2]; break;
	case 3: css = cs->subsys[3]; break;
	case 4: css = cs->subsys[4]; break;
	case 5: css = cs->subsys[5]; break;
	case 6: css = cs->subsys[6]; break;
	case 7: css = cs->subsys[7]; break;
	default: return 0;
	}
	if (!css || w->at - w->start > 3 * 1024)
		return 0;
	__u64 at = w->at;
	struct cgroup_subsys *ss = css->ss;
	const char *name = ss ? ss->name : NULL;
	long r = name ? bpf_probe_read_kernel_str(&a->data[SAFE(at)], 32, name) : 0;
	if (r <= 1)
		return 0;
	at += r - 1;
	a->data[SAFE(at)] = '=';
	at++;
	/* a plain number, not a BTF pointer: fr_kernfs_path (a global function) takes it */
	struct cgroup *cg = css->cgroup;
	__u64 kn = cg ? (__u64)BPF_CORE_READ(cg, kn) : 0;
	__u32 len;
	if (kn && kn == w->prev_kn) {
		len = w->prev_len & 0x3fff;
		if (len)
			bpf_probe_read_kernel(&a->data[SAFE(at)], len, &a->data[SAFE(w->prev_at)]);
	} else {
		len = fr_kernfs_path(a, at, kn) & 0x3fff;
		w->prev_kn = kn;
		w->prev_at = at;
		w->prev_len = len;
	}
	at += len;
	a->data[SAFE(at)] = 0;
	w->at = at + 1;
	return 0;
}

static __always_inline void push_cgroups(struct ev *e, struct task_struct *task)
{
	if (!task->cgroups) {
		push_empty(e);
		return;
	}
	struct cgroup_walk w = { .start = e->pos, .at = e->pos };
	for (__u32 i = 0; i < CGROUP_SUBSYS_MAX; i++)
		fr_one_cgroup(e->a, &w, i);
	set_len(e, (__u16)(w.at - w.start));
}

static __always_inline __u64 mm_counter(struct mm_struct *mm, int member)
{
	s64 v = mm->rss_stat[member].count;
	return v > 0 ? (__u64)v : 0;
}

/* fdlimit, pgft_maj, pgft_min, vm_size, vm_rss, vm_swap */
static __always_inline void push_mem(struct ev *e, struct task_struct *task)
{
	struct signal_struct *sig = task->signal;
	push_u64(e, sig ? sig->rlim[K_RLIMIT_NOFILE].rlim_cur : 0);
	push_u64(e, task->maj_flt);
	push_u64(e, task->min_flt);
	struct mm_struct *mm = task->mm;
	__u32 size = 0, rss = 0, swap = 0;
	if (mm) {
		size = mm->total_vm << (K_PAGE_SHIFT - 10);
		rss = (mm_counter(mm, K_MM_FILEPAGES) + mm_counter(mm, K_MM_ANONPAGES) +
		       mm_counter(mm, K_MM_SHMEMPAGES)) << (K_PAGE_SHIFT - 10);
		swap = mm_counter(mm, K_MM_SWAPENTS) << (K_PAGE_SHIFT - 10);
	}
	push_u32(e, size);
	push_u32(e, rss);
	push_u32(e, swap);
}

/* pid->numbers[level].nr. `numbers` is a flexible array, which aya's CO-RE relocator
 * does not index into: the address is computed from relocated offsets instead. */
static __always_inline __s64 pid_nr_at(struct pid *pid, unsigned int level)
{
	if (!pid)
		return 0;
	__u64 addr = (__u64)pid + bpf_core_field_offset(struct pid, numbers) +
		     (__u64)level * bpf_core_type_size(struct upid) + bpf_core_field_offset(struct upid, nr);
	int nr = 0;
	bpf_probe_read_kernel(&nr, sizeof(nr), (void *)addr);
	return nr;
}

/* The pid as seen from the pid's own (innermost) namespace. */
static __always_inline __s64 task_ns_pid(struct pid *pid)
{
	if (!pid)
		return 0;
	return pid_nr_at(pid, BPF_CORE_READ(pid, level));
}

static __always_inline __u32 task_tty(struct task_struct *task)
{
	struct signal_struct *sig = task->signal;
	struct tty_struct *tty = sig ? sig->tty : NULL;
	if (!tty)
		return 0;
	int index = tty->index;
	struct tty_driver *drv = tty->driver;
	int major = drv ? drv->major : 0;
	int minor_start = drv ? drv->minor_start : 0;
	return encode_dev(((__u32)major << 20) | (__u32)(minor_start + index));
}



/* ------------------------------------------------------------------------ */
/* Executable and file properties: overlay layer, memfd origin, writability  */

#define OVERLAYFS_SUPER_MAGIC 0x794c7630
#define PPM_EXE_WRITABLE (1 << 0)
#define PPM_EXE_UPPER_LAYER (1 << 1)
#define PPM_EXE_FROM_MEMFD (1 << 2)
#define PPM_EXE_LOWER_LAYER (1 << 3)
#define PPM_FD_UPPER_LAYER (1 << 15)
#define PPM_FD_LOWER_LAYER (1 << 16)
#define K_SB_RDONLY 1
#define K_S_IMMUTABLE 8
#define K_CAP_DAC_OVERRIDE 1
#define K_CAP_FOWNER 3

/* 0: not on overlayfs, 1: upper layer, 2: lower layer. */
static __always_inline int file_overlay_layer(struct file *f)
{
	struct dentry *d = BPF_CORE_READ(f, f_path.dentry);
	if (!d || BPF_CORE_READ(d, d_sb, s_magic) != OVERLAYFS_SUPER_MAGIC)
		return 0;
	if (!bpf_core_type_exists(struct ovl_inode))
		return 0;
	struct inode *vi = BPF_CORE_READ(d, d_inode);
	if (!vi)
		return 0;
	__u64 oi = (__u64)vi - bpf_core_field_offset(struct ovl_inode, vfs_inode);
	struct dentry *upper = NULL;
	bpf_probe_read_kernel(&upper, sizeof(upper),
			      (void *)(oi + bpf_core_field_offset(struct ovl_inode, __upperdentry)));
	return upper ? 1 : 2;
}

/* The memfd_create name prefix of the exe's dentry. */
static __always_inline int file_from_memfd(struct file *f)
{
	const unsigned char *name = BPF_CORE_READ(f, f_path.dentry, d_name.name);
	char p[6] = {};
	if (!name || bpf_probe_read_kernel(p, sizeof(p), name) != 0)
		return 0;
	return p[0] == 'm' && p[1] == 'e' && p[2] == 'm' && p[3] == 'f' && p[4] == 'd' && p[5] == ':';
}

/* Whether the current credentials may write the inode: a simplified form of the kernel's
 * check (owner, primary group, mode bits, CAP_DAC_OVERRIDE/CAP_FOWNER; no ACLs, no
 * supplementary groups, no user-namespace mapping). The inode's fields come from its span in
 * scratch slot `slot` (see read_span: zeros when the inode could not be read); `cred` is a
 * BTF pointer. */
static __always_inline int inode_writable(struct aux *a, __u32 slot, const struct cred *cred)
{
	__u32 mode = SPAN_GET(a, slot, __u16, struct inode, i_mode);
	struct super_block *sb = SPAN_GET(a, slot, struct super_block *, struct inode, i_sb);
	if (BPF_CORE_READ(sb, s_flags) & K_SB_RDONLY)
		return 0;
	if (SPAN_GET(a, slot, __u32, struct inode, i_flags) & K_S_IMMUTABLE)
		return 0;
	__u32 uid = SPAN_GET(a, slot, __u32, struct inode, i_uid.val);
	__u32 gid = SPAN_GET(a, slot, __u32, struct inode, i_gid.val);
	__u32 fsuid = cred ? cred->fsuid.val : 0, fsgid = cred ? cred->fsgid.val : 0;
	if (uid == (__u32)-1 || gid == (__u32)-1)
		return 0;
	if (fsuid == uid)
		return 1;
	if (fsgid == gid)
		mode >>= 3;
	if (mode & 2)
		return 1;
	__u64 caps = cred ? cred->cap_effective.val : 0;
	return (caps & (1ULL << K_CAP_DAC_OVERRIDE)) || (caps & (1ULL << K_CAP_FOWNER));
}

/* ------------------------------------------------------------------------ */
/* Path of a struct file, rebuilt from its dentries (bpf_d_path is not allowed on
 * these hooks). Components are written backwards into a 4 KiB window of the scratch
 * area's second half, crossing mount points, then copied to the event. At most
 * DPATH_COMPONENTS components; a longer path is cut at the root side. */

#define DPATH_COMPONENTS 32
#define DPATH_WINDOW 4096
#define DPATH_SCRATCH (MAX_EVENT_SIZE + 8192)

__noinline int fr_file_path(struct aux *a, __u64 at, __u64 file_addr)
{
	struct file *f = (struct file *)file_addr;
	if (!a || !f)
		return 0;
	struct dentry *d = BPF_CORE_READ(f, f_path.dentry);
	struct vfsmount *vmnt = BPF_CORE_READ(f, f_path.mnt);
	struct mount *mnt = (struct mount *)((__u64)vmnt - bpf_core_field_offset(struct mount, mnt));
	__u32 end = DPATH_WINDOW - 1;
	a->data[DPATH_SCRATCH + DPATH_WINDOW - 1] = 0;
	__u32 start = end;
	/* d_parent, d_name.len and d_name.name come in one probe read per component (they are
	 * neighbours in struct dentry); the mount's root is read again only after a crossing */
	__u32 dend = MAX2(FIELD_END(struct dentry, d_parent),
			  MAX2(FIELD_END(struct dentry, d_name.len), FIELD_END(struct dentry, d_name.name)));
	struct dentry *mnt_root = BPF_CORE_READ(vmnt, mnt_root);
	for (int i = 0; i < DPATH_COMPONENTS; i++) {
		struct dentry *parent = NULL;
		__u32 len = 0;
		const unsigned char *name = NULL;
		if (read_span(a, 4, d, dend) == 0) {
			parent = SPAN_GET(a, 4, struct dentry *, struct dentry, d_parent);
			len = SPAN_GET(a, 4, __u32, struct dentry, d_name.len);
			name = SPAN_GET(a, 4, const unsigned char *, struct dentry, d_name.name);
		}
		if (d == mnt_root || d == parent) {
			struct mount *mparent = BPF_CORE_READ(mnt, mnt_parent);
			if (d != mnt_root || mnt == mparent)
				break; /* the root of the root mount */
			d = BPF_CORE_READ(mnt, mnt_mountpoint);
			mnt = mparent;
			vmnt = (struct vfsmount *)((__u64)mnt + bpf_core_field_offset(struct mount, mnt));
			mnt_root = BPF_CORE_READ(vmnt, mnt_root);
			continue;
		}
		len &= 0xff;
		if (len + 1 >= start)
			break;
		start -= len;
		start &= DPATH_WINDOW - 1;
		bpf_probe_read_kernel(&a->data[DPATH_SCRATCH + start], len, name);
		start -= 1;
		start &= DPATH_WINDOW - 1;
		a->data[DPATH_SCRATCH + start] = '/';
		d = parent;
	}
	if (start == end) {
		/* the root itself */
		start = end - 1;
		a->data[DPATH_SCRATCH + start] = '/';
	}
	__u32 total = DPATH_WINDOW - start; /* includes the NUL */
	total &= DPATH_WINDOW - 1;
	if (total == 0)
		return 0;
	bpf_probe_read_kernel(&a->data[SAFE(at)], total, &a->data[DPATH_SCRATCH + (start & (DPATH_WINDOW - 1))]);
	return total;
}

/* The 21 parameters of the clone family's exit events. */
__noinline int fr_emit_clone(__u32 type, long ret, __u64 kflags)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct ev e;
	__u64 tid = task->pid;
	if (!ev_begin(&e, type, 21, tid))
		return 0;
	push_u64(&e, ret);                                     /* res */
	push_exe_args(&e, task);                               /* exe, args */
	push_u64(&e, tid);                                     /* tid */
	push_u64(&e, task->tgid);                              /* pid */
	struct task_struct *parent = task->real_parent;
	push_u64(&e, parent ? parent->pid : 0);                /* ptid */
	push_empty_str(&e);                                    /* cwd: tracked in user space */
	push_mem(&e, task);                                    /* fdlimit..vm_swap */
	push_kernel_str(&e, &task->comm, COMM_LEN);            /* comm */
	push_cgroups(&e, task);                                /* cgroups */
	__u32 flags = clone_flags_to_ppm(kflags);
	struct pid *tp = BPF_CORE_READ(task, thread_pid);
	if (tp && BPF_CORE_READ(tp, level) > 0)
		flags |= PPM_CL_CHILD_IN_PIDNS;
	push_u32(&e, flags);                                   /* flags */
	const struct cred *cred = task->cred;
	push_u32(&e, cred ? cred->euid.val : 0);               /* uid */
	push_u32(&e, cred ? cred->egid.val : 0);               /* gid */
	push_u64(&e, task_ns_pid(tp));                         /* vtid */
	push_u64(&e, task_ns_pid(BPF_CORE_READ(task, group_leader, thread_pid))); /* vpid */
	push_u64(&e, 0);                                       /* pidns_init_start_ts: not yet */
	ev_submit(&e, CAT_PROC);
	return 0;
}

/* execve/execveat exit: 31 (execve) or 30 (execveat) parameters. */
__noinline int fr_emit_exec(__u32 type, long ret, __u64 kfilename_addr, __u64 ufilename_addr)
{
	const char *kfilename = (const char *)kfilename_addr;
	const char *ufilename = (const char *)ufilename_addr;
	struct task_struct *task = bpf_get_current_task_btf();
	struct ev e;
	__u64 tid = task->pid;
	__u32 n = type == PPME_SYSCALL_EXECVE_19_X ? 31 : 30;
	if (!ev_begin(&e, type, n, tid))
		return 0;
	push_u64(&e, ret);                                     /* 1 res */
	push_exe_args(&e, task);                               /* 2 exe, 3 args */
	push_u64(&e, tid);                                     /* 4 tid */
	push_u64(&e, task->tgid);                              /* 5 pid */
	struct task_struct *parent = task->real_parent;
	push_u64(&e, parent ? parent->pid : 0);                /* 6 ptid */
	push_empty_str(&e);                                    /* 7 cwd: tracked in user space */
	push_mem(&e, task);                                    /* 8..13 */
	push_kernel_str(&e, &task->comm, COMM_LEN);            /* 14 comm */
	push_cgroups(&e, task);                                /* 15 cgroups */
	push_env(&e, task);                                    /* 16 env */
	push_u32(&e, task_tty(task));                          /* 17 tty */
	struct pid *pg = BPF_CORE_READ(task, signal, pids[PIDTYPE_PGID]);
	push_u64(&e, task_ns_pid(pg));                         /* 18 vpgid */
	push_u32(&e, task->loginuid.val);                      /* 19 loginuid */
	const struct cred *cred = task->cred;
	struct mm_struct *mm = task->mm;
	/* a plain number, not a BTF pointer: fr_file_path (a global function) takes it */
	struct file *exe = mm ? BPF_CORE_READ(mm, exe_file) : NULL;
	struct inode *ino = exe ? BPF_CORE_READ(exe, f_inode) : NULL;
	/* the exe inode's mode, owner, flags, super block, number and times in one probe read */
	__u32 iend = MAX2(MAX2(MAX2(FIELD_END(struct inode, i_mode), FIELD_END(struct inode, i_sb)),
			       MAX2(FIELD_END(struct inode, i_uid.val), FIELD_END(struct inode, i_gid.val))),
			  MAX2(MAX2(FIELD_END(struct inode, i_flags), FIELD_END(struct inode, i_ino)),
			       MAX2(MAX2(FIELD_END(struct inode, i_ctime_sec), FIELD_END(struct inode, i_ctime_nsec)),
				    MAX2(FIELD_END(struct inode, i_mtime_sec), FIELD_END(struct inode, i_mtime_nsec)))));
	if (ino)
		read_span(e.a, 5, ino, iend);
	__u32 exe_flags = 0;
	if (exe) {
		int layer = file_overlay_layer(exe);
		if (layer == 1)
			exe_flags |= PPM_EXE_UPPER_LAYER;
		else if (layer == 2)
			exe_flags |= PPM_EXE_LOWER_LAYER;
		if (file_from_memfd(exe))
			exe_flags |= PPM_EXE_FROM_MEMFD;
		if (ino && inode_writable(e.a, 5, cred))
			exe_flags |= PPM_EXE_WRITABLE;
	}
	push_u32(&e, exe_flags);                               /* 20 flags */
	push_u64(&e, cred ? cred->cap_inheritable.val : 0);    /* 21 */
	push_u64(&e, cred ? cred->cap_permitted.val : 0);      /* 22 */
	push_u64(&e, cred ? cred->cap_effective.val : 0);      /* 23 */
	if (ino) {
		push_u64(&e, SPAN_GET(e.a, 5, __u64, struct inode, i_ino)); /* 24 exe_ino */
		__u64 ct = SPAN_GET(e.a, 5, __s64, struct inode, i_ctime_sec) * 1000000000ULL +
			   SPAN_GET(e.a, 5, __u32, struct inode, i_ctime_nsec);
		__u64 mt = SPAN_GET(e.a, 5, __s64, struct inode, i_mtime_sec) * 1000000000ULL +
			   SPAN_GET(e.a, 5, __u32, struct inode, i_mtime_nsec);
		push_u64(&e, ct);                               /* 25 exe_ino_ctime */
		push_u64(&e, mt);                               /* 26 exe_ino_mtime */
	} else {
		push_u64(&e, 0);
		push_u64(&e, 0);
		push_u64(&e, 0);
	}
	push_u32(&e, cred ? cred->euid.val : 0);               /* 27 uid */
	set_len(&e, (__u16)(fr_file_path(e.a, e.pos, (__u64)exe) & 0x1fff)); /* 28 trusted_exepath */
	push_u64(&e, pid_nr_at(pg, 0));        /* 29 pgid */
	push_u32(&e, cred ? cred->egid.val : 0);               /* 30 gid */
	if (type == PPME_SYSCALL_EXECVE_19_X) {
		if (kfilename)
			push_kernel_str(&e, kfilename, PATH_MAX_READ); /* 31 filename */
		else
			push_user_str(&e, ufilename, PATH_MAX_READ);
	}
	ev_submit(&e, CAT_PROC);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Files                                                                     */

/* The PPM layer bit of a file on overlayfs from its dentry's (overlay) inode `vi`: 2 = upper
 * layer, 4 = lower. The ovl_inode around vi is reached by a computed (container_of) address,
 * which only a probe read may dereference. */
static __always_inline __u32 overlay_layer(struct inode *vi)
{
	__u64 oi = (__u64)vi - bpf_core_field_offset(struct ovl_inode, vfs_inode);
	struct dentry *upper = NULL;
	bpf_probe_read_kernel(&upper, sizeof(upper),
			      (void *)(oi + bpf_core_field_offset(struct ovl_inode, __upperdentry)));
	return upper ? 2 : 4;
}

/* dev and ino of a newly opened file, and its PPM "created" bits: 1 = the open created it
 * (FMODE_CREATED), 2 = overlayfs upper layer, 4 = lower layer, for a file reached through a
 * grown fd table (open_file_props_btf serves the embedded one). Four probe reads (file,
 * inode, super block, plus the fd slot read by the caller) instead of nine. The super block
 * tested for overlayfs is the inode's: f_inode is d_inode(f_path.dentry) since overlayfs
 * opens through its own file operations (Linux 4.19), so it is the dentry's d_sb. */
static __always_inline __u32 open_file_props(struct aux *a, struct file *f, __u32 *dev, __u64 *ino)
{
	__u32 fend = MAX2(FIELD_END(struct file, f_mode),
			  MAX2(FIELD_END(struct file, f_inode), FIELD_END(struct file, f_path.dentry)));
	if (read_span(a, 0, f, fend) != 0)
		return 0;
	__u32 created = SPAN_GET(a, 0, __u32, struct file, f_mode) & K_FMODE_CREATED ? 1 : 0;
	struct inode *i = SPAN_GET(a, 0, struct inode *, struct file, f_inode);
	struct dentry *d = SPAN_GET(a, 0, struct dentry *, struct file, f_path.dentry);
	__u32 iend = MAX2(FIELD_END(struct inode, i_sb), FIELD_END(struct inode, i_ino));
	if (read_span(a, 1, i, iend) != 0)
		return created;
	*ino = SPAN_GET(a, 1, __u64, struct inode, i_ino);
	struct super_block *sb = SPAN_GET(a, 1, struct super_block *, struct inode, i_sb);
	__u32 send = MAX2(FIELD_END(struct super_block, s_dev), FIELD_END(struct super_block, s_magic));
	if (read_span(a, 2, sb, send) != 0)
		return created;
	*dev = encode_dev(SPAN_GET(a, 2, __u32, struct super_block, s_dev));
	if (!d || SPAN_GET(a, 2, __u64, struct super_block, s_magic) != OVERLAYFS_SUPER_MAGIC ||
	    !bpf_core_type_exists(struct ovl_inode))
		return created;
	struct inode *vi = BPF_CORE_READ(d, d_inode);
	if (!vi)
		return created;
	return created | overlay_layer(vi);
}

/* The same three properties from a BTF `struct file *` (see fd_array_file): every field is a
 * direct load, which the JIT turns into a fault-tolerant move; only the overlayfs upper-dentry
 * test, reached from a computed (container_of) address, still needs a probe read. */
static __always_inline __u32 open_file_props_btf(struct file *f, __u32 *dev, __u64 *ino)
{
	__u32 created = f->f_mode & K_FMODE_CREATED ? 1 : 0;
	struct inode *i = f->f_inode;
	if (!i)
		return created;
	*ino = i->i_ino;
	struct super_block *sb = i->i_sb;
	if (!sb)
		return created;
	*dev = encode_dev(sb->s_dev);
	if (sb->s_magic != OVERLAYFS_SUPER_MAGIC || !bpf_core_type_exists(struct ovl_inode))
		return created;
	struct dentry *d = f->f_path.dentry;
	struct inode *vi = d ? d->d_inode : NULL;
	if (!vi)
		return created;
	return created | overlay_layer(vi);
}

/* The TOCTOU copy of this thread's current syscall, if the enter hook made one. */
static __always_inline struct toctou_entry *toctou_take(struct task_struct *task, __u32 nr)
{
	struct toctou_entry *t = bpf_task_storage_get(&toctou_args, task, NULL, 0);
	if (t && t->nr == nr) {
		struct counters *c = get_counters();
		if (c)
			c->n_toctou_used++;
		return t;
	}
	return NULL;
}

static __always_inline void toctou_drop(struct toctou_entry *t)
{
	t->nr = 0;
}

/* Paths up to this long (most are) are copied from the TOCTOU copy by 8-byte loads and
 * stores, which cost less than one helper call. */
#define TOCTOU_SHORT 128

/* A path param from the TOCTOU copy when there is one (its length, NUL included, is known:
 * one plain copy instead of a byte-by-byte string read), else from user memory now. A short
 * copy may write up to 7 bytes past the path; the params that follow overwrite them, or they
 * lie past the event's end. */
static __always_inline void push_path_toctou(struct ev *e, struct toctou_entry *t, const char *uptr)
{
	if (t) {
		__u32 n = t->len;
		if (n > TOCTOU_BUF)
			n = TOCTOU_BUF;
		barrier_var(n);
		if (n && n <= TOCTOU_SHORT) {
			__u64 pos = e->pos;
			for (int i = 0; i < TOCTOU_SHORT / 8; i++) {
				if (i * 8 >= n)
					break;
				store_u64(&e->a->data[SAFE(pos + i * 8)], load_u64(&t->buf[i * 8]));
			}
			set_len(e, (__u16)n);
			return;
		}
		if (n && bpf_probe_read_kernel(&e->a->data[SAFE(e->pos)], n, t->buf) == 0) {
			set_len(e, (__u16)n);
			return;
		}
	}
	push_user_str(e, uptr, PATH_MAX_READ);
}

/* open/openat/openat2/creat: the flags param comes before dev, so dev/ino are
 * read first and written in place. */
__noinline int fr_emit_open(__u32 nr, long ret, struct sc_args *regs)
{
	if (!regs)
		return 0;
	struct ev e;
	__u16 type;
	__u32 n;
	switch (nr) {
	case NR_open: type = PPME_SYSCALL_OPEN_X; n = 6; break;
	case NR_openat: type = PPME_SYSCALL_OPENAT_2_X; n = 7; break;
	case NR_openat2: type = PPME_SYSCALL_OPENAT2_X; n = 8; break;
	default: type = PPME_SYSCALL_CREAT_X; n = 6; break;
	}
	/* one helper call for the task, reused for the tid, the fd table and the TOCTOU copy: on
	 * kernels that make every return a mispredicted one (SRSO "safe RET"), each helper call
	 * costs tens of ns whatever it does */
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 tid = task->pid;
	if (!ev_begin(&e, type, n, tid))
		return 0;

	__u32 created = 0;
	__u32 dev = 0;
	__u64 ino = 0;
	if (ret >= 0 && !interesting(SLOT_NO_OPEN_FILE_PROPS)) {
		struct file *bf = fd_array_file(task, (__s32)ret);
		if (bf) {
			created = open_file_props_btf(bf, &dev, &ino);
		} else {
			struct file *f = file_from_fd(task, (__s32)ret);
			if (f)
				created = open_file_props(e.a, f, &dev, &ino);
		}
	}
	/* PPM flag bits from what the kernel file says: created, overlay layer */
	__u32 fflags = (created & 1 ? PPM_O_F_CREATED : 0) | (created & 2 ? PPM_FD_UPPER_LAYER : 0) |
		       (created & 4 ? PPM_FD_LOWER_LAYER : 0);

	struct toctou_entry *t = toctou_take(task, nr);
	push_u64(&e, ret); /* fd */
	if (nr == NR_open || nr == NR_creat) {
		const char *path = (const char *)sc_arg(regs, 0);
		push_path_toctou(&e, t, path); /* name */
		if (nr == NR_open) {
			__u32 fl = sc_arg(regs, 1);
			__u32 ppm = open_flags_to_ppm(fl) | fflags;
			push_u32(&e, ppm);                                  /* flags */
			push_u32(&e, open_mode_to_ppm(fl, sc_arg(regs, 2))); /* mode */
			push_u32(&e, dev);
			push_u64(&e, ino);
		} else {
			push_u32(&e, sc_arg(regs, 1) & 07777); /* mode */
			push_u32(&e, dev);
			push_u64(&e, ino);
			push_u16(&e, (created & 2 ? 1 : 0) | (created & 4 ? 2 : 0)); /* creat_flags: PPM_FD_*_LAYER_CREAT */
		}
	} else {
		__s32 dirfd = (__s32)sc_arg(regs, 0);
		push_u64(&e, dirfd == AT_FDCWD_VAL ? (__s64)PPM_AT_FDCWD : (__s64)dirfd);
		push_path_toctou(&e, t, (const char *)sc_arg(regs, 1));
		__u32 fl = 0, mode = 0;
		__u64 resolve = 0;
		if (nr == NR_openat) {
			fl = sc_arg(regs, 2);
			mode = sc_arg(regs, 3);
		} else {
			struct open_how how = {};
			bpf_probe_read_user(&how, sizeof(how), (void *)sc_arg(regs, 2));
			fl = how.flags;
			mode = how.mode;
			resolve = how.resolve;
		}
		push_u32(&e, open_flags_to_ppm(fl) | fflags);
		push_u32(&e, open_mode_to_ppm(fl, mode));
		if (nr == NR_openat2)
			push_u32(&e, (__u32)resolve); /* resolve: PPM_FD_RESOLVE_* equal the kernel bits */
		push_u32(&e, dev);
		push_u64(&e, ino);
	}
	ev_submit(&e, CAT_OPEN);
	if (t)
		toctou_drop(t);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Network                                                                   */

/* A user sockaddr: family byte + address + host-order port, or unix path. */
static __always_inline long read_addr(void *dst, __u32 size, const void *src, int kernel)
{
	return kernel ? bpf_probe_read_kernel(dst, size, src) : bpf_probe_read_user(dst, size, src);
}

static __always_inline long read_addr_str(void *dst, __u32 size, const void *src, int kernel)
{
	return kernel ? bpf_probe_read_kernel_str(dst, size, src) : bpf_probe_read_user_str(dst, size, src);
}

/* `kernel`: uaddr points to the TOCTOU copy instead of user memory. */
static __always_inline void push_sockaddr_from(struct ev *e, const void *uaddr, __u32 ulen, int kernel)
{
	if (!uaddr || ulen < 2) {
		push_empty(e);
		return;
	}
	__u16 family = 0;
	read_addr(&family, sizeof(family), uaddr, kernel);
	__u8 *d = e->a->data;
	__u64 p = e->pos;
	if (family == K_AF_INET) {
		struct sockaddr_in sa = {};
		read_addr(&sa, sizeof(sa), uaddr, kernel);
		d[SAFE(p)] = PPM_AF_INET;
		store_u32(&d[SAFE(p + 1)], sa.sin_addr.s_addr);
		store_u16(&d[SAFE(p + 5)], bpf_ntohs(sa.sin_port));
		set_len(e, 7);
	} else if (family == K_AF_INET6) {
		struct sockaddr_in6 sa = {};
		read_addr(&sa, sizeof(sa), uaddr, kernel);
		d[SAFE(p)] = PPM_AF_INET6;
		__builtin_memcpy(&d[SAFE(p + 1)], &sa.sin6_addr, 16);
		store_u16(&d[SAFE(p + 17)], bpf_ntohs(sa.sin6_port));
		set_len(e, 19);
	} else if (family == K_AF_UNIX) {
		d[SAFE(p)] = PPM_AF_UNIX;
		long r = read_addr_str(&d[SAFE(p + 1)], UNIX_PATH_MAX, (const char *)uaddr + 2, kernel);
		if (r <= 0) {
			d[SAFE(p + 1)] = 0;
			r = 1;
		}
		set_len(e, 1 + (__u16)r);
	} else {
		d[SAFE(p)] = family_to_ppm(family);
		set_len(e, 1);
	}
}

static __always_inline void push_sockaddr(struct ev *e, const void *uaddr, __u32 ulen)
{
	push_sockaddr_from(e, uaddr, ulen, 0);
}

/* The connection tuple of a socket fd, read from the kernel socket.
 * outbound: local side first (connect); otherwise remote first (accept). */
static __always_inline void push_socktuple(struct ev *e, struct task_struct *task, long fd,
					   int outbound, const void *uaddr, int uaddr_kernel)
{
	struct file *f = file_from_fd(task, (__s32)fd);
	struct socket *sock = NULL;
	if (f)
		sock = BPF_CORE_READ(f, private_data);
	struct sock *sk = NULL;
	if (sock)
		sk = BPF_CORE_READ(sock, sk);
	if (!sk) {
		push_empty(e);
		return;
	}
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	__u8 *d = e->a->data;
	__u64 p = e->pos;
	if (family == K_AF_INET) {
		struct inet_sock *inet = (struct inet_sock *)sk;
		__u32 lip = BPF_CORE_READ(inet, inet_saddr);
		__u16 lport = bpf_ntohs(BPF_CORE_READ(inet, inet_sport));
		__u32 rip = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		__u16 rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
		if (rport == 0 && uaddr) {
			struct sockaddr_in sa = {};
			read_addr(&sa, sizeof(sa), uaddr, uaddr_kernel);
			rip = sa.sin_addr.s_addr;
			rport = bpf_ntohs(sa.sin_port);
		}
		d[SAFE(p)] = PPM_AF_INET;
		store_u32(&d[SAFE(p + 1)], outbound ? lip : rip);
		store_u16(&d[SAFE(p + 5)], outbound ? lport : rport);
		store_u32(&d[SAFE(p + 7)], outbound ? rip : lip);
		store_u16(&d[SAFE(p + 11)], outbound ? rport : lport);
		set_len(e, 13);
	} else if (family == K_AF_INET6) {
		struct inet_sock *inet = (struct inet_sock *)sk;
		struct in6_addr lip = {}, rip = {};
		BPF_CORE_READ_INTO(&lip, inet, pinet6, saddr);
		BPF_CORE_READ_INTO(&rip, sk, __sk_common.skc_v6_daddr);
		__u16 lport = bpf_ntohs(BPF_CORE_READ(inet, inet_sport));
		__u16 rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
		d[SAFE(p)] = PPM_AF_INET6;
		__builtin_memcpy(&d[SAFE(p + 1)], outbound ? &lip : &rip, 16);
		store_u16(&d[SAFE(p + 17)], outbound ? lport : rport);
		__builtin_memcpy(&d[SAFE(p + 19)], outbound ? &rip : &lip, 16);
		store_u16(&d[SAFE(p + 35)], outbound ? rport : lport);
		set_len(e, 37);
	} else if (family == K_AF_UNIX) {
		struct unix_sock *us = (struct unix_sock *)sk;
		struct sock *peer = BPF_CORE_READ(us, peer);
		d[SAFE(p)] = PPM_AF_UNIX;
		store_u64(&d[SAFE(p + 1)], outbound ? (__u64)sk : (__u64)peer);
		store_u64(&d[SAFE(p + 9)], outbound ? (__u64)peer : (__u64)sk);
		long r = 0;
		if (uaddr) {
			r = read_addr_str(&d[SAFE(p + 17)], UNIX_PATH_MAX, (const char *)uaddr + 2, uaddr_kernel);
		} else {
			struct unix_sock *named = peer ? (struct unix_sock *)peer : us;
			struct unix_address *ua = BPF_CORE_READ(named, addr);
			if (!ua)
				ua = BPF_CORE_READ(us, addr);
			if (ua)
				r = bpf_probe_read_kernel_str(&d[SAFE(p + 17)], UNIX_PATH_MAX,
							      (char *)ua + bpf_core_field_offset(struct unix_address, name) +
								      bpf_core_field_offset(struct sockaddr_un, sun_path));
		}
		if (r <= 0) {
			d[SAFE(p + 17)] = 0;
			r = 1;
		}
		set_len(e, 17 + (__u16)r);
	} else {
		push_empty(e);
	}
}

__noinline int fr_emit_net(__u32 nr, long ret, struct sc_args *regs)
{
	if (!regs)
		return 0;
	struct ev e;
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 tid = task->pid;
	__s64 fd = (__s32)sc_arg(regs, 0);
	switch (nr) {
	case NR_socket: {
		if (!ev_begin(&e, PPME_SOCKET_SOCKET_X, 5, tid))
			return 0;
		__u32 type = sc_arg(regs, 1);
		push_u64(&e, ret);
		push_u32(&e, family_to_ppm(sc_arg(regs, 0)));
		push_u32(&e, type);
		push_u32(&e, sc_arg(regs, 2));
		__u32 fl = 0;
		if (type & K_O_NONBLOCK) fl |= PPM_O_NONBLOCK;
		if (type & K_O_CLOEXEC) fl |= PPM_O_CLOEXEC;
		push_u32(&e, fl);
		break;
	}
	case NR_bind:
		if (!ev_begin(&e, PPME_SOCKET_BIND_X, 3, tid))
			return 0;
		push_u64(&e, ret);
		push_sockaddr(&e, (const void *)sc_arg(regs, 1), sc_arg(regs, 2));
		push_u64(&e, fd);
		break;
	case NR_listen:
		if (!ev_begin(&e, PPME_SOCKET_LISTEN_X, 3, tid))
			return 0;
		push_u64(&e, ret);
		push_u64(&e, fd);
		push_u32(&e, (__s32)sc_arg(regs, 1));
		break;
	case NR_connect: {
		if (!ev_begin(&e, PPME_SOCKET_CONNECT_X, 4, tid))
			return 0;
		const void *uaddr = (const void *)sc_arg(regs, 1);
		__u32 ulen = sc_arg(regs, 2);
		struct toctou_entry *t = toctou_take(task, NR_connect);
		int kernel = 0;
		if (t) {
			uaddr = t->buf;
			ulen = t->len;
			kernel = 1;
		}
		push_u64(&e, ret);
		if (ret == 0 || ret == -EINPROGRESS_VAL)
			push_socktuple(&e, task, fd, 1, uaddr, kernel);
		else
			push_empty(&e);
		push_u64(&e, fd);
		push_sockaddr_from(&e, uaddr, ulen, kernel);
		if (t)
			toctou_drop(t);
		break;
	}
	default: { /* accept, accept4 */
		__u16 type = nr == NR_accept ? PPME_SOCKET_ACCEPT_5_X : PPME_SOCKET_ACCEPT4_6_X;
		if (!ev_begin(&e, type, nr == NR_accept ? 5 : 6, tid))
			return 0;
		push_u64(&e, ret);
		if (ret >= 0)
			push_socktuple(&e, task, ret, 0, NULL, 0);
		else
			push_empty(&e);
		/* queue fill of the listening socket */
		__u32 qlen = 0, qmax = 0;
		struct file *lf = file_from_fd(task, (__s32)fd);
		if (lf) {
			struct socket *ls = BPF_CORE_READ(lf, private_data);
			struct sock *lsk = ls ? BPF_CORE_READ(ls, sk) : NULL;
			if (lsk) {
				qlen = BPF_CORE_READ(lsk, sk_ack_backlog);
				qmax = BPF_CORE_READ(lsk, sk_max_ack_backlog);
			}
		}
		push_u8(&e, qmax ? (__u8)((qlen * 100) / qmax) : 0);
		push_u32(&e, qlen);
		push_u32(&e, qmax);
		if (nr == NR_accept4)
			push_u32(&e, (__s32)sc_arg(regs, 3));
		break;
	}
	}
	ev_submit(&e, CAT_NET);
	return 0;
}



/* ------------------------------------------------------------------------ */
/* Socket I/O (payload cut to `snaplen`), socketpair, ptrace, kernel modules  */

#define SNAPLEN_MAX 4096
#define IOV_MAX_READ 8

/* Up to `max` bytes from a user buffer as a BYTEBUF param. */
static __always_inline void push_user_bytes(struct ev *e, const void *ubuf, __u64 max)
{
	__u64 n = max;
	if (n > SNAPLEN_MAX)
		n = SNAPLEN_MAX;
	barrier_var(n);
	n &= SNAPLEN_MAX * 2 - 1;
	if (!ubuf || n == 0 || bpf_probe_read_user(&e->a->data[SAFE(e->pos)], n, ubuf) != 0) {
		push_empty(e);
		return;
	}
	set_len(e, (__u16)n);
}

/* Payload gathered from a msghdr's iovecs (at most IOV_MAX_READ of them), up to `max`
 * bytes; `total` receives the sum of the iovec lengths. */
static __always_inline void push_msghdr_data(struct ev *e, struct user_msghdr *mh, __u64 max,
					     __u64 *total)
{
	struct iovec iov[IOV_MAX_READ] = {};
	__u64 cnt = mh->msg_iovlen;
	if (cnt > IOV_MAX_READ)
		cnt = IOV_MAX_READ;
	if (mh->msg_iov)
		bpf_probe_read_user(iov, sizeof(iov), mh->msg_iov);
	if (max > SNAPLEN_MAX)
		max = SNAPLEN_MAX;
	__u64 copied = 0;
	*total = 0;
	for (int i = 0; i < IOV_MAX_READ; i++) {
		if (i >= cnt)
			break;
		*total += iov[i].iov_len;
		if (copied >= max)
			continue;
		__u64 n = iov[i].iov_len;
		if (n > max - copied)
			n = max - copied;
		barrier_var(n);
		n &= SNAPLEN_MAX * 2 - 1;
		if (n == 0)
			continue;
		if (bpf_probe_read_user(&e->a->data[SAFE(e->pos + copied)], n, iov[i].iov_base) != 0)
			break;
		copied += n;
		copied &= SNAPLEN_MAX * 2 - 1;
	}
	set_len(e, (__u16)copied);
}

static __always_inline __u16 ptrace_req_to_ppm(__u64 req)
{
	switch (req) {
	case 0: return 1;        /* TRACEME */
	case 1: return 2;        /* PEEKTEXT */
	case 2: return 3;        /* PEEKDATA */
	case 3: return 4;        /* PEEKUSR */
	case 4: return 5;        /* POKETEXT */
	case 5: return 6;        /* POKEDATA */
	case 6: return 7;        /* POKEUSR */
	case 7: return 8;        /* CONT */
	case 8: return 9;        /* KILL */
	case 9: return 10;       /* SINGLESTEP */
	case 12: return 26;      /* GETREGS */
	case 13: return 27;      /* SETREGS */
	case 14: return 28;      /* GETFPREGS */
	case 15: return 29;      /* SETFPREGS */
	case 16: return 11;      /* ATTACH */
	case 17: return 12;      /* DETACH */
	case 18: return 30;      /* GETFPXREGS */
	case 19: return 31;      /* SETFPXREGS */
	case 21: return 32;      /* OLDSETOPTIONS */
	case 24: return 13;      /* SYSCALL */
	case 25: return 33;      /* GET_THREAD_AREA */
	case 26: return 34;      /* SET_THREAD_AREA */
	case 30: return 35;      /* ARCH_PRCTL */
	case 31: return 36;      /* SYSEMU */
	case 32: return 37;      /* SYSEMU_SINGLESTEP */
	case 33: return 38;      /* SINGLEBLOCK */
	case 0x4200: return 14;  /* SETOPTIONS */
	case 0x4201: return 15;  /* GETEVENTMSG */
	case 0x4202: return 16;  /* GETSIGINFO */
	case 0x4203: return 17;  /* SETSIGINFO */
	case 0x4204: return 18;  /* GETREGSET */
	case 0x4205: return 19;  /* SETREGSET */
	case 0x4206: return 20;  /* SEIZE */
	case 0x4207: return 21;  /* INTERRUPT */
	case 0x4208: return 22;  /* LISTEN */
	case 0x4209: return 23;  /* PEEKSIGINFO */
	case 0x420a: return 24;  /* GETSIGMASK */
	case 0x420b: return 25;  /* SETSIGMASK */
	default: return 0;
	}
}

/* A DYN param: selector byte (0 = u64, 1 = signal) then the value. */
static __always_inline void push_dyn_u64(struct ev *e, __u64 v)
{
	e->a->data[SAFE(e->pos)] = 0;
	store_u64(&e->a->data[SAFE(e->pos + 1)], v);
	set_len(e, 9);
}

static __always_inline void push_dyn_sig(struct ev *e, __u8 sig)
{
	e->a->data[SAFE(e->pos)] = 1;
	e->a->data[SAFE(e->pos + 1)] = sig;
	set_len(e, 2);
}

__noinline int fr_emit_io(__u32 nr, long ret, struct sc_args *regs)
{
	if (!regs)
		return 0;
	struct ev e;
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 tid = task->pid;
	__s64 fd = (__s32)sc_arg(regs, 0);
	__u64 snap = ret > 0 ? (ret < snaplen ? (__u64)ret : snaplen) : 0;
	switch (nr) {
	case NR_read:
	case NR_write:
	case NR_pread64:
	case NR_pwrite64: {
		int positioned = nr == NR_pread64 || nr == NR_pwrite64;
		__u16 type = nr == NR_read    ? PPME_SYSCALL_READ_X
			     : nr == NR_write ? PPME_SYSCALL_WRITE_X
			     : nr == NR_pread64 ? PPME_SYSCALL_PREAD_X
						: PPME_SYSCALL_PWRITE_X;
		if (!ev_begin(&e, type, positioned ? 5 : 4, tid))
			return 0;
		push_u64(&e, ret);
		push_user_bytes(&e, (const void *)sc_arg(regs, 1), snap);
		push_u64(&e, fd);
		push_u32(&e, sc_arg(regs, 2));
		if (positioned)
			push_u64(&e, sc_arg(regs, 3));
		break;
	}
	case NR_sendto:
		if (!ev_begin(&e, PPME_SOCKET_SENDTO_X, 5, tid))
			return 0;
		push_u64(&e, ret);
		push_user_bytes(&e, (const void *)sc_arg(regs, 1), snap);
		push_u64(&e, fd);
		push_u32(&e, sc_arg(regs, 2));
		push_socktuple(&e, task, fd, 1, (const void *)sc_arg(regs, 4), 0);
		break;
	case NR_recvfrom:
		if (!ev_begin(&e, PPME_SOCKET_RECVFROM_X, 5, tid))
			return 0;
		push_u64(&e, ret);
		push_user_bytes(&e, (const void *)sc_arg(regs, 1), snap);
		/* for an unconnected socket the sender is in src_addr, filled by the call */
		if (ret >= 0)
			push_socktuple(&e, task, fd, 0, (const void *)sc_arg(regs, 4), 0);
		else
			push_empty(&e);
		push_u64(&e, fd);
		push_u32(&e, sc_arg(regs, 2));
		break;
	case NR_sendmsg:
	case NR_recvmsg: {
		struct user_msghdr mh = {};
		if (regs->compat) {
			/* the 32-bit msghdr: its name and control buffers are kept; its iovecs (32-bit
			 * too) are not walked, so the data is empty and the size 0 */
			__u32 cm[7] = {};
			bpf_probe_read_user(cm, sizeof(cm), (void *)sc_arg(regs, 1));
			mh.msg_name = (void *)(__u64)cm[0];
			mh.msg_namelen = cm[1];
			mh.msg_control = (void *)(__u64)cm[4];
			mh.msg_controllen = cm[5];
		} else {
			bpf_probe_read_user(&mh, sizeof(mh), (void *)sc_arg(regs, 1));
		}
		__u64 total = 0;
		if (nr == NR_sendmsg) {
			if (!ev_begin(&e, PPME_SOCKET_SENDMSG_X, 5, tid))
				return 0;
			push_u64(&e, ret);
			push_msghdr_data(&e, &mh, snap, &total);
			push_u64(&e, fd);
			push_u32(&e, (__u32)total);
			push_socktuple(&e, task, fd, 1, mh.msg_name, 0);
		} else {
			if (!ev_begin(&e, PPME_SOCKET_RECVMSG_X, 6, tid))
				return 0;
			push_u64(&e, ret);
			if (ret >= 0) {
				push_u32(&e, (__u32)ret);
				push_msghdr_data(&e, &mh, snap, &total);
				push_socktuple(&e, task, fd, 0, mh.msg_name, 0);
				if (mh.msg_control && mh.msg_controllen > 0)
					push_user_bytes(&e, mh.msg_control, mh.msg_controllen > snaplen ? snaplen : mh.msg_controllen);
				else
					push_empty(&e);
			} else {
				push_u32(&e, 0);
				push_empty(&e);
				push_empty(&e);
				push_empty(&e);
			}
			push_u64(&e, fd);
		}
		break;
	}
	case NR_socketpair: {
		if (!ev_begin(&e, PPME_SOCKET_SOCKETPAIR_X, 8, tid))
			return 0;
		__s32 fds[2] = {-1, -1};
		__u64 src = 0, peer = 0;
		if (ret == 0) {
			bpf_probe_read_user(fds, sizeof(fds), (void *)sc_arg(regs, 3));
			struct file *f = file_from_fd(task, fds[0]);
			struct socket *sock = f ? BPF_CORE_READ(f, private_data) : NULL;
			struct sock *sk = sock ? BPF_CORE_READ(sock, sk) : NULL;
			if (sk) {
				src = (__u64)sk;
				peer = (__u64)BPF_CORE_READ((struct unix_sock *)sk, peer);
			}
		}
		push_u64(&e, ret);
		push_u64(&e, fds[0]);
		push_u64(&e, fds[1]);
		push_u64(&e, src);
		push_u64(&e, peer);
		push_u32(&e, family_to_ppm(sc_arg(regs, 0)));
		push_u32(&e, sc_arg(regs, 1));
		push_u32(&e, sc_arg(regs, 2));
		break;
	}
	case NR_ptrace: {
		if (!ev_begin(&e, PPME_SYSCALL_PTRACE_X, 5, tid))
			return 0;
		__u64 req = sc_arg(regs, 0);
		__u64 data = sc_arg(regs, 3);
		push_u64(&e, ret);
		push_dyn_u64(&e, sc_arg(regs, 2)); /* addr */
		if ((req == 1 || req == 2 || req == 3) && ret == 0) {
			__u64 peeked = 0;
			bpf_probe_read_user(&peeked, sizeof(peeked), (void *)data);
			push_dyn_u64(&e, peeked);
		} else if (req == 7 || req == 9 || req == 17 || req == 24 || req == 31 || req == 32 ||
			   req == 33) {
			push_dyn_sig(&e, (__u8)data); /* a signal to deliver */
		} else {
			push_dyn_u64(&e, data);
		}
		push_u16(&e, ptrace_req_to_ppm(req));
		push_u64(&e, (__s32)sc_arg(regs, 1));
		break;
	}
	case NR_init_module: {
		if (!ev_begin(&e, PPME_SYSCALL_INIT_MODULE_X, 4, tid))
			return 0;
		__u64 len = sc_arg(regs, 1);
		push_u64(&e, ret);
		push_user_bytes(&e, (const void *)sc_arg(regs, 0), len < snaplen ? len : snaplen);
		push_u64(&e, len);
		push_user_str(&e, (const char *)sc_arg(regs, 2), PATH_MAX_READ);
		break;
	}
	case NR_finit_module:
		if (!ev_begin(&e, PPME_SYSCALL_FINIT_MODULE_X, 4, tid))
			return 0;
		push_u64(&e, ret);
		push_u64(&e, fd);
		push_user_str(&e, (const char *)sc_arg(regs, 1), PATH_MAX_READ);
		push_u32(&e, sc_arg(regs, 2) & 7);
		break;
	default:
		return 0;
	}
	ev_submit(&e, nr == NR_ptrace || nr == NR_init_module || nr == NR_finit_module ? CAT_OTHER
		      : nr <= NR_write || nr == NR_pread64 || nr == NR_pwrite64	      ? CAT_OPEN
											      : CAT_NET);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Other syscalls: result + arguments                                        */

#define K_AT_SYMLINK_FOLLOW 0x400
#define K_AT_EMPTY_PATH 0x1000
#define K_AT_REMOVEDIR 0x200
#define K_MS_MGC_MSK 0xffff0000
#define K_MS_MGC_VAL 0xC0ED0000

static __always_inline __u8 fcntl_cmd_to_ppm(__u32 cmd)
{
	switch (cmd) {
	case 0: return 1;     /* F_DUPFD */
	case 1: return 2;     /* F_GETFD */
	case 2: return 3;     /* F_SETFD */
	case 3: return 4;     /* F_GETFL */
	case 4: return 5;     /* F_SETFL */
	case 5: return 6;     /* F_GETLK */
	case 6: return 8;     /* F_SETLK */
	case 7: return 9;     /* F_SETLKW */
	case 8: return 10;    /* F_SETOWN */
	case 9: return 12;    /* F_GETOWN */
	case 10: return 13;   /* F_SETSIG */
	case 11: return 15;   /* F_GETSIG */
	case 15: return 21;   /* F_SETOWN_EX */
	case 16: return 22;   /* F_GETOWN_EX */
	case 36: return 30;   /* F_OFD_GETLK */
	case 37: return 31;   /* F_OFD_SETLK */
	case 38: return 32;   /* F_OFD_SETLKW */
	case 1024: return 23; /* F_SETLEASE */
	case 1025: return 24; /* F_GETLEASE */
	case 1026: return 27; /* F_NOTIFY */
	case 1029: return 25; /* F_CANCELLK */
	case 1030: return 26; /* F_DUPFD_CLOEXEC */
	case 1031: return 28; /* F_SETPIPE_SZ */
	case 1032: return 29; /* F_GETPIPE_SZ */
	default: return 0;
	}
}

static __always_inline __u32 cloexec_nonblock_to_ppm(__u32 f)
{
	__u32 r = 0;
	if (f & K_O_CLOEXEC) r |= PPM_O_CLOEXEC;
	if (f & K_O_NONBLOCK) r |= PPM_O_NONBLOCK;
	return r;
}

static __always_inline __u32 at_flags_to_ppm(__u32 f)
{
	return f & (K_AT_SYMLINK_FOLLOW | K_AT_EMPTY_PATH);
}

#define FD(i) ((__s64)(__s32)sc_arg(regs, (i)))
#define USTR(i) ((const char *)sc_arg(regs, (i)))

/* Every event here starts with the syscall result; the rest follow the exit event's
 * parameter list of current libs. Flags that libs define with the kernel's bit values
 * (AT_*, RENAME_*, MFD_*, MNT_*, MS_*, permission bits) are passed through masked. */
__noinline int fr_emit_misc(__u32 nr, long ret, struct sc_args *regs)
{
	if (!regs)
		return 0;
	struct ev e;
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 tid = task->pid;
	__u16 type;
	__u32 n;
	switch (nr) {
	case NR_dup: type = PPME_SYSCALL_DUP_1_X; n = 2; break;
	case NR_dup2: type = PPME_SYSCALL_DUP2_X; n = 3; break;
	case NR_dup3: type = PPME_SYSCALL_DUP3_X; n = 4; break;
	case NR_fcntl: type = PPME_SYSCALL_FCNTL_X; n = 4; break;
	case NR_chdir: type = PPME_SYSCALL_CHDIR_X; n = 2; break;
	case NR_fchdir: type = PPME_SYSCALL_FCHDIR_X; n = 2; break;
	case NR_chroot: type = PPME_SYSCALL_CHROOT_X; n = 2; break;
	case NR_unlink: type = PPME_SYSCALL_UNLINK_2_X; n = 2; break;
	case NR_rmdir: type = PPME_SYSCALL_RMDIR_2_X; n = 2; break;
	case NR_unlinkat: type = PPME_SYSCALL_UNLINKAT_2_X; n = 4; break;
	case NR_rename: type = PPME_SYSCALL_RENAME_X; n = 3; break;
	case NR_link: type = PPME_SYSCALL_LINK_2_X; n = 3; break;
	case NR_symlink: type = PPME_SYSCALL_SYMLINK_X; n = 3; break;
	case NR_renameat: type = PPME_SYSCALL_RENAMEAT_X; n = 5; break;
	case NR_renameat2: type = PPME_SYSCALL_RENAMEAT2_X; n = 6; break;
	case NR_linkat: type = PPME_SYSCALL_LINKAT_2_X; n = 6; break;
	case NR_symlinkat: type = PPME_SYSCALL_SYMLINKAT_X; n = 4; break;
	case NR_mkdir: type = PPME_SYSCALL_MKDIR_2_X; n = 3; break;
	case NR_mkdirat: type = PPME_SYSCALL_MKDIRAT_X; n = 4; break;
	case NR_chmod: type = PPME_SYSCALL_CHMOD_X; n = 3; break;
	case NR_fchmod: type = PPME_SYSCALL_FCHMOD_X; n = 3; break;
	case NR_fchmodat: type = PPME_SYSCALL_FCHMODAT_X; n = 4; break;
	case NR_chown: type = PPME_SYSCALL_CHOWN_X; n = 4; break;
	case NR_lchown: type = PPME_SYSCALL_LCHOWN_X; n = 4; break;
	case NR_fchown: type = PPME_SYSCALL_FCHOWN_X; n = 4; break;
	case NR_fchownat: type = PPME_SYSCALL_FCHOWNAT_X; n = 6; break;
	case NR_setuid: type = PPME_SYSCALL_SETUID_X; n = 2; break;
	case NR_setgid: type = PPME_SYSCALL_SETGID_X; n = 2; break;
	case NR_setreuid: type = PPME_SYSCALL_SETREUID_X; n = 3; break;
	case NR_setregid: type = PPME_SYSCALL_SETREGID_X; n = 3; break;
	case NR_setresuid: type = PPME_SYSCALL_SETRESUID_X; n = 4; break;
	case NR_setresgid: type = PPME_SYSCALL_SETRESGID_X; n = 4; break;
	case NR_setsid: type = PPME_SYSCALL_SETSID_X; n = 1; break;
	case NR_setpgid: type = PPME_SYSCALL_SETPGID_X; n = 3; break;
	case NR_kill: type = PPME_SYSCALL_KILL_X; n = 3; break;
	case NR_pipe: type = PPME_SYSCALL_PIPE_X; n = 4; break;
	case NR_pipe2: type = PPME_SYSCALL_PIPE2_X; n = 5; break;
	case NR_setns: type = PPME_SYSCALL_SETNS_X; n = 3; break;
	case NR_unshare: type = PPME_SYSCALL_UNSHARE_X; n = 2; break;
	case NR_mount: type = PPME_SYSCALL_MOUNT_X; n = 5; break;
	case NR_umount2: type = PPME_SYSCALL_UMOUNT2_X; n = 3; break;
	case NR_memfd_create: type = PPME_SYSCALL_MEMFD_CREATE_X; n = 3; break;
	case NR_bpf: type = PPME_SYSCALL_BPF_2_X; n = 2; break;
	case NR_userfaultfd: type = PPME_SYSCALL_USERFAULTFD_X; n = 2; break;
	case NR_mprotect: type = PPME_SYSCALL_MPROTECT_X; n = 4; break;
	default: {
		/* No dedicated event: GENERIC_X with the PPM_SC code and the native number. */
		__u16 sc = nr < SYSCALL_TABLE_SIZE ? ppm_sc_of_syscall[nr & (SYSCALL_TABLE_SIZE - 1)] : 0;
		if (!ev_begin(&e, PPME_GENERIC_X, 2, tid))
			return 0;
		push_u16(&e, sc);
		push_u16(&e, (__u16)nr);
		ev_submit(&e, CAT_OTHER);
		return 0;
	}
	}
	if (!ev_begin(&e, type, n, tid))
		return 0;
	push_u64(&e, ret);
	switch (nr) {
	case NR_dup:
	case NR_fchdir:
		push_u64(&e, FD(0));
		break;
	case NR_dup2:
		push_u64(&e, FD(0));
		push_u64(&e, FD(1));
		break;
	case NR_dup3:
		push_u64(&e, FD(0));
		push_u64(&e, FD(1));
		push_u32(&e, sc_arg(regs, 2) & K_O_CLOEXEC ? PPM_O_CLOEXEC : 0);
		break;
	case NR_fcntl:
		push_u64(&e, FD(0));
		push_u8(&e, fcntl_cmd_to_ppm(sc_arg(regs, 1)));
		push_u64(&e, sc_arg(regs, 2));
		break;
	case NR_chdir:
	case NR_chroot:
	case NR_unlink:
	case NR_rmdir:
		push_user_str(&e, USTR(0), PATH_MAX_READ);
		break;
	case NR_unlinkat:
		push_u64(&e, FD(0));
		push_user_str(&e, USTR(1), PATH_MAX_READ);
		push_u32(&e, sc_arg(regs, 2) & K_AT_REMOVEDIR);
		break;
	case NR_rename:
	case NR_link:
	case NR_symlink:
		push_user_str(&e, USTR(0), PATH_MAX_READ);
		push_user_str(&e, USTR(1), PATH_MAX_READ);
		break;
	case NR_renameat:
	case NR_renameat2:
	case NR_linkat:
		push_u64(&e, FD(0));
		push_user_str(&e, USTR(1), PATH_MAX_READ);
		push_u64(&e, FD(2));
		push_user_str(&e, USTR(3), PATH_MAX_READ);
		if (nr == NR_renameat2)
			push_u32(&e, sc_arg(regs, 4) & 7);
		else if (nr == NR_linkat)
			push_u32(&e, at_flags_to_ppm(sc_arg(regs, 4)));
		break;
	case NR_symlinkat:
		push_user_str(&e, USTR(0), PATH_MAX_READ);
		push_u64(&e, FD(1));
		push_user_str(&e, USTR(2), PATH_MAX_READ);
		break;
	case NR_mkdir:
	case NR_chmod:
		push_user_str(&e, USTR(0), PATH_MAX_READ);
		push_u32(&e, sc_arg(regs, 1) & 07777);
		break;
	case NR_mkdirat:
	case NR_fchmodat:
		push_u64(&e, FD(0));
		push_user_str(&e, USTR(1), PATH_MAX_READ);
		push_u32(&e, sc_arg(regs, 2) & 07777);
		break;
	case NR_fchmod:
		push_u64(&e, FD(0));
		push_u32(&e, sc_arg(regs, 1) & 07777);
		break;
	case NR_chown:
	case NR_lchown:
		push_user_str(&e, USTR(0), PATH_MAX_READ);
		push_u32(&e, sc_arg(regs, 1));
		push_u32(&e, sc_arg(regs, 2));
		break;
	case NR_fchown:
		push_u64(&e, FD(0));
		push_u32(&e, sc_arg(regs, 1));
		push_u32(&e, sc_arg(regs, 2));
		break;
	case NR_fchownat:
		push_u64(&e, FD(0));
		push_user_str(&e, USTR(1), PATH_MAX_READ);
		push_u32(&e, sc_arg(regs, 2));
		push_u32(&e, sc_arg(regs, 3));
		push_u32(&e, at_flags_to_ppm(sc_arg(regs, 4)));
		break;
	case NR_setuid:
	case NR_setgid:
		push_u32(&e, sc_arg(regs, 0));
		break;
	case NR_setreuid:
	case NR_setregid:
		push_u32(&e, sc_arg(regs, 0));
		push_u32(&e, sc_arg(regs, 1));
		break;
	case NR_setresuid:
	case NR_setresgid:
		push_u32(&e, sc_arg(regs, 0));
		push_u32(&e, sc_arg(regs, 1));
		push_u32(&e, sc_arg(regs, 2));
		break;
	case NR_setsid:
		break;
	case NR_setpgid:
		push_u64(&e, (__s32)sc_arg(regs, 0));
		push_u64(&e, (__s32)sc_arg(regs, 1));
		break;
	case NR_kill:
		push_u64(&e, (__s32)sc_arg(regs, 0));
		push_u8(&e, (__u8)sc_arg(regs, 1));
		break;
	case NR_pipe:
	case NR_pipe2: {
		__s32 fds[2] = {-1, -1};
		__u64 ino = 0;
		if (ret == 0) {
			bpf_probe_read_user(fds, sizeof(fds), (void *)sc_arg(regs, 0));
			struct file *f = file_from_fd(task, fds[0]);
			if (f)
				ino = BPF_CORE_READ(f, f_inode, i_ino);
		}
		push_u64(&e, fds[0]);
		push_u64(&e, fds[1]);
		push_u64(&e, ino);
		if (nr == NR_pipe2)
			push_u32(&e, cloexec_nonblock_to_ppm(sc_arg(regs, 1)));
		break;
	}
	case NR_setns:
		push_u64(&e, FD(0));
		push_u32(&e, clone_flags_to_ppm(sc_arg(regs, 1)));
		break;
	case NR_unshare:
		push_u32(&e, clone_flags_to_ppm(sc_arg(regs, 0)));
		break;
	case NR_mount: {
		__u64 fl = sc_arg(regs, 3);
		if ((fl & K_MS_MGC_MSK) == K_MS_MGC_VAL)
			fl &= ~(__u64)K_MS_MGC_MSK;
		push_user_str(&e, USTR(0), PATH_MAX_READ);
		push_user_str(&e, USTR(1), PATH_MAX_READ);
		push_user_str(&e, USTR(2), 256);
		push_u32(&e, (__u32)fl);
		break;
	}
	case NR_umount2:
		push_user_str(&e, USTR(0), PATH_MAX_READ);
		push_u32(&e, sc_arg(regs, 1) & 0xf);
		break;
	case NR_memfd_create:
		/* memfd_create's first param is the fd itself (already pushed as ret) */
		push_user_str(&e, USTR(0), 256);
		push_u32(&e, sc_arg(regs, 1) & 7);
		break;
	case NR_bpf:
		push_u32(&e, sc_arg(regs, 0));
		break;
	case NR_userfaultfd:
		push_u32(&e, cloexec_nonblock_to_ppm(sc_arg(regs, 0)));
		break;
	case NR_mprotect: {
		__u32 prot = sc_arg(regs, 2), p = prot & 0xf; /* READ WRITE EXEC SEM */
		if (prot & 0x01000000) p |= 1 << 4;        /* GROWSDOWN */
		if (prot & 0x02000000) p |= 1 << 5;        /* GROWSUP */
		push_u64(&e, sc_arg(regs, 0));
		push_u64(&e, sc_arg(regs, 1));
		push_u32(&e, p);
		break;
	}
	}
	ev_submit(&e, CAT_OTHER);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Entry points                                                              */

/* `id` comes from the tracepoint's pt_regs (a direct load for tp_btf). The arguments are
 * read only for interesting syscalls, through the current task's syscall registers
 * reached as a BTF pointer, which both the tp_btf and the raw_tp program can load from
 * directly. */
static __always_inline int on_sys_exit(struct pt_regs *regs, long id, long ret)
{
	if (id < 0 || id >= SYSCALL_TABLE_SIZE)
		return 0;
	/* Whether the syscall is an ia32 one takes a helper call; a syscall wanted under neither
	 * numbering (most of those no rule needs) returns before it. */
	int wanted = interesting((__u32)id);
	if (!wanted && id != IA32_SOCKETCALL) {
		long as64 = x64_of_ia32[id & (IA32_TABLE_SIZE - 1)];
		if (as64 < 0 || !interesting((__u32)as64))
			return 0;
	}
	struct task_struct *task = bpf_get_current_task_btf();
	/* tp_btf hands over the syscall's own pt_regs as a BTF pointer; raw_tp passes NULL */
	if (!regs)
		regs = (struct pt_regs *)bpf_task_pt_regs(task);
	struct sc_args args;
	if (in_ia32_syscall(task)) {
		read_args_ia32(&args, regs);
		if (id == IA32_SOCKETCALL)
			id = socketcall_demux(&args);
		else
			id = x64_of_ia32[id & (IA32_TABLE_SIZE - 1)];
		if (id < 0 || id >= SYSCALL_TABLE_SIZE || !interesting((__u32)id))
			return 0;
	} else {
		if (!wanted)
			return 0;
		read_args(&args, regs);
	}
	switch (id) {
	case NR_open:
	case NR_openat:
	case NR_openat2:
	case NR_creat:
		fr_emit_open(id, ret, &args);
		break;
	case NR_close: {
		/* header, 2 lengths, res, fd */
		__u8 *p = fixed_begin(HEADER_LEN + 2 * 2 + 8 + 8, PPME_SYSCALL_CLOSE_X, 2,
				      bpf_get_current_pid_tgid() & 0xffffffff, CAT_OPEN);
		if (!p)
			return 0;
		*(__u16 *)&p[HEADER_LEN] = 8;
		*(__u16 *)&p[HEADER_LEN + 2] = 8;
		*(__u64 *)&p[HEADER_LEN + 4] = ret;
		*(__u64 *)&p[HEADER_LEN + 12] = (__s64)(__s32)sc_arg(&args, 0);
		fixed_submit(p);
		break;
	}
	case NR_socket:
	case NR_bind:
	case NR_listen:
	case NR_connect:
	case NR_accept:
	case NR_accept4:
		fr_emit_net(id, ret, &args);
		break;
	case NR_read:
	case NR_write:
	case NR_pread64:
	case NR_pwrite64:
	case NR_sendto:
	case NR_recvfrom:
	case NR_sendmsg:
	case NR_recvmsg:
	case NR_socketpair:
	case NR_ptrace:
	case NR_init_module:
	case NR_finit_module:
		fr_emit_io(id, ret, &args);
		break;
	case NR_clone:
		fr_emit_clone(PPME_SYSCALL_CLONE_20_X, ret, sc_arg(&args, 0));
		break;
	case NR_fork:
		fr_emit_clone(PPME_SYSCALL_FORK_20_X, ret, 0);
		break;
	case NR_vfork:
		fr_emit_clone(PPME_SYSCALL_VFORK_20_X, ret, K_CLONE_VFORK | K_CLONE_VM);
		break;
	case NR_clone3: {
		__u64 fl = 0;
		bpf_probe_read_user(&fl, sizeof(fl), (void *)sc_arg(&args, 0));
		fr_emit_clone(PPME_SYSCALL_CLONE3_X, ret, fl);
		break;
	}
	case NR_execve:
		/* success is reported from sched_process_exec, with the new image */
		if (ret != 0)
			fr_emit_exec(PPME_SYSCALL_EXECVE_19_X, ret, 0, sc_arg(&args, 0));
		break;
	case NR_execveat:
		if (ret != 0)
			fr_emit_exec(PPME_SYSCALL_EXECVEAT_X, ret, 0, 0);
		break;
	default:
		fr_emit_misc(id, ret, &args);
		break;
	}
	return 0;
}

static __always_inline int on_exec(struct linux_binprm *bprm)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	long id = BPF_CORE_READ(regs, orig_ax);
	__u16 type = id == NR_execveat ? PPME_SYSCALL_EXECVEAT_X : PPME_SYSCALL_EXECVE_19_X;
	if (!interesting(id == NR_execveat ? NR_execveat : NR_execve))
		return 0;
	const char *filename = BPF_CORE_READ(bprm, filename);
	fr_emit_exec(type, 0, (__u64)filename, 0);
	return 0;
}

static __always_inline int on_exit(struct task_struct *task)
{
	if (!interesting(SLOT_PROCEXIT))
		return 0;
	/* header, 5 lengths, status u64, ret u64, sig u8, core u8, reaper_tid u64 */
	__u8 *p = fixed_begin(HEADER_LEN + 5 * 2 + 8 + 8 + 1 + 1 + 8, PPME_PROCEXIT_1_E, 5,
			      BPF_CORE_READ(task, pid), CAT_PROC);
	if (!p)
		return 0;
	__s32 code = BPF_CORE_READ(task, exit_code);
	__u8 sig = code & 0x7f;
	__u32 at = HEADER_LEN;
	*(__u16 *)&p[at] = 8;
	*(__u16 *)&p[at + 2] = 8;
	*(__u16 *)&p[at + 4] = 1;
	*(__u16 *)&p[at + 6] = 1;
	*(__u16 *)&p[at + 8] = 8;
	at += 5 * 2;
	*(__u64 *)&p[at] = (__s64)code;                              /* status */
	*(__u64 *)&p[at + 8] = (code >> 8) & 0xff;                   /* ret */
	p[at + 16] = (sig != 0 && sig != 0x7f) ? sig : 0;            /* sig */
	p[at + 17] = (code & 0x80) != 0;                             /* core */
	*(__u64 *)&p[at + 18] = 0;                                   /* reaper_tid: not yet */
	fixed_submit(p);
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(frule_sys_exit, struct pt_regs *regs, long ret)
{
	return on_sys_exit(regs, regs->orig_ax, ret);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(frule_sched_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return on_exec(bprm);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(frule_sched_exit, struct task_struct *p)
{
	return on_exit(p);
}

/* raw_tp programs read their arguments from a plain u64 array (bpf_raw_tracepoint_args
 * has a flexible array, which aya's CO-RE relocator does not index into). */
SEC("raw_tp/sys_exit")
int frule_sys_exit_raw(unsigned long long *ctx)
{
	return on_sys_exit(NULL, BPF_CORE_READ((struct pt_regs *)ctx[0], orig_ax), (long)ctx[1]);
}

SEC("raw_tp/sched_process_exec")
int frule_sched_exec_raw(unsigned long long *ctx)
{
	return on_exec((struct linux_binprm *)ctx[2]);
}

SEC("raw_tp/sched_process_exit")
int frule_sched_exit_raw(unsigned long long *ctx)
{
	return on_exit((struct task_struct *)ctx[0]);
}

/* ------------------------------------------------------------------------ */
/* TOCTOU mitigation: the path or sockaddr of the open family and connect, copied at
 * syscall entry straight into the thread's `toctou_args` task storage (created on the
 * thread's first copy, zeroed) for the exit hook. Two kinds of hook make the copy: one
 * tp_btf/sys_enter program, or the classic syscalls:sys_enter_* tracepoints of those
 * five syscalls (raw tracepoint mode; they need tracefs). */

/* Layout of a syscalls:sys_enter_* tracepoint record (stable tracefs format). */
struct sys_enter_record {
	__u64 common;
	__s32 nr;
	__u32 pad;
	__u64 args[6];
};

/* Bytes of a path first read into the entry program's stack (see toctou_store); most paths
 * are shorter. */
#define TOCTOU_STACK 256

static __always_inline int toctou_store(__u32 nr, const void *uptr, __u32 ulen, int is_str)
{
	if (!interesting(nr) || !uptr)
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	/* an ia32 syscall's number and registers mean something else (the classic tracepoints do
	 * not fire for one; the raw sys_enter does): its exit reads the user memory instead */
	if (in_ia32_syscall(task))
		return 0;
	struct toctou_entry *t = bpf_task_storage_get(&toctou_args, task, NULL,
						      BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!t)
		return 0;
	long r;
	if (is_str) {
		/* Through the stack: with CONFIG_HARDENED_USERCOPY every user copy checks its
		 * destination, and a stack buffer is checked with a few address tests where the
		 * task storage (a slab object) costs a page-to-slab lookup and a bounds check on
		 * each open (profiled on 6.18: ≈ 40 % less time in the check). A path that fills
		 * the stack buffer may be longer and is read again in full. */
		char tmp[TOCTOU_STACK];
		r = bpf_probe_read_user_str(tmp, sizeof(tmp), uptr);
		if (r > 0 && r < TOCTOU_STACK) {
			for (int i = 0; i < TOCTOU_STACK / 8; i++) {
				if (i * 8 >= r)
					break;
				store_u64(&t->buf[i * 8], load_u64(&tmp[i * 8]));
			}
		} else if (r == TOCTOU_STACK) {
			r = bpf_probe_read_user_str(t->buf, TOCTOU_BUF, uptr);
		}
	} else {
		__u32 n = ulen > 112 ? 112 : ulen; /* sockaddr_un is 110 bytes */
		barrier_var(n);
		n &= 0x7f;
		r = bpf_probe_read_user(t->buf, n, uptr) == 0 ? (long)n : -1;
	}
	if (r <= 0) {
		t->nr = 0;
		return 0;
	}
	t->len = r;
	t->nr = nr;
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_open")
int frule_toctou_open(struct sys_enter_record *ctx)
{
	return toctou_store(NR_open, (const void *)ctx->args[0], 0, 1);
}

SEC("tracepoint/syscalls/sys_enter_creat")
int frule_toctou_creat(struct sys_enter_record *ctx)
{
	return toctou_store(NR_creat, (const void *)ctx->args[0], 0, 1);
}

SEC("tracepoint/syscalls/sys_enter_openat")
int frule_toctou_openat(struct sys_enter_record *ctx)
{
	return toctou_store(NR_openat, (const void *)ctx->args[1], 0, 1);
}

SEC("tracepoint/syscalls/sys_enter_openat2")
int frule_toctou_openat2(struct sys_enter_record *ctx)
{
	return toctou_store(NR_openat2, (const void *)ctx->args[1], 0, 1);
}

SEC("tracepoint/syscalls/sys_enter_connect")
int frule_toctou_connect(struct sys_enter_record *ctx)
{
	return toctou_store(NR_connect, (const void *)ctx->args[1], (__u32)ctx->args[2], 0);
}

/* The same copies from the raw sys_enter tracepoint (the loader's EntryHook chooses): it needs
 * no tracefs and costs an open less than a classic syscalls:sys_enter_* tracepoint, which goes
 * through perf's per-syscall event path before the program runs, but it runs for every syscall
 * of the host, so each syscall nobody asked for pays one more program dispatch. */
SEC("tp_btf/sys_enter")
int BPF_PROG(frule_sys_enter, struct pt_regs *regs, long id)
{
	switch (id) {
	case NR_open:
	case NR_creat:
		return toctou_store(id, (const void *)regs->di, 0, 1);
	case NR_openat:
	case NR_openat2:
		return toctou_store(id, (const void *)regs->si, 0, 1);
	case NR_connect:
		return toctou_store(id, (const void *)regs->si, (__u32)regs->dx, 0);
	default:
		return 0;
	}
}
