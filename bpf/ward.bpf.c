// SPDX-License-Identifier: GPL-2.0
/* ward's BPF LSM programs: IPE's decisions at IPE's own hooks (security/ipe/hooks.c), from maps
 * that ward's daemon fills. Built CO-RE against vmlinux.h; every kernel field is read by direct
 * BTF access (no bpf_probe_read_kernel, which lockdown=confidentiality refuses).
 *
 * What a file gets (docs/bpf.md has the full table):
 *  - no active policy: allowed (as IPE);
 *  - a verdict user space computed for this exact file identity (dev, ino, i_generation,
 *    ctime) whose identity still holds and which nobody can write: that verdict;
 *  - else, on kernels with the fs-verity kfunc, a file with fs-verity whose digest the
 *    policy names: the policy's answer for that digest;
 *  - else the "uncovered" answer: the policy evaluated with only what the kernel itself
 *    knows (boot_verified from the superblock, every other property false). With a policy
 *    whose DEFAULT is DENY that is a denial: the backend fails closed.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "ward.h"

char LICENSE[] SEC("license") = "GPL";

#define EACCES 13
#define PROT_EXEC 0x4 /* include/uapi/asm-generic/mman-common.h */
#define VM_EXEC 0x4   /* include/linux/mm.h */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ward_config);
} ward_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 262144); /* two generations of 131072 files during a swap */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ward_verdict_key);
	__type(value, struct ward_verdict);
} ward_verdicts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ward_digest_key);
	__type(value, struct ward_digest_verdict);
} ward_digests SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} ward_events SEC(".maps");

/* [0] decisions, [1] denials (policy said DENY), [2] audit events dropped (ring full). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} ward_stats SEC(".maps");

/* Room for the kernel's fs-verity digest: bpf_dynptr_from_mem takes map memory, not the stack. */
struct verity_buf {
	struct fsverity_digest d;
	__u8 bytes[64];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct verity_buf);
} ward_scratch SEC(".maps");

/* inode ctime moved twice: i_ctime (<= 6.5), __i_ctime (6.6-6.10), i_ctime_sec/nsec (6.11+). */
struct inode___v611 {
	time64_t i_ctime_sec;
	__u32 i_ctime_nsec;
} __attribute__((preserve_access_index));
struct inode___v66 {
	struct timespec64 __i_ctime;
} __attribute__((preserve_access_index));
struct inode___v51 {
	struct timespec64 i_ctime;
} __attribute__((preserve_access_index));

/* The kernel's own fs-verity measurement (fs/verity/measure.c, Linux 6.8+, LSM programs only).
 * Weak: on kernels without it the *_verity programs are not loaded (the loader chooses). */
extern int bpf_get_fsverity_digest(struct file *file, struct bpf_dynptr *digest_ptr) __ksym __weak;

static __always_inline void count(__u32 i)
{
	__u64 *c = bpf_map_lookup_elem(&ward_stats, &i);
	if (c)
		*c += 1;
}

static __always_inline void inode_ctime(struct inode *inode, __s64 *sec, __u32 *nsec)
{
	if (bpf_core_field_exists(struct inode___v611, i_ctime_sec)) {
		struct inode___v611 *i = (void *)inode;
		*sec = i->i_ctime_sec;
		/* 6.13+ multigrain timestamps keep a flag in the top bits of i_ctime_nsec. */
		*nsec = i->i_ctime_nsec & 0x3fffffff;
	} else if (bpf_core_field_exists(struct inode___v66, __i_ctime)) {
		struct inode___v66 *i = (void *)inode;
		*sec = i->__i_ctime.tv_sec;
		*nsec = i->__i_ctime.tv_nsec;
	} else {
		struct inode___v51 *i = (void *)inode;
		*sec = i->i_ctime.tv_sec;
		*nsec = i->i_ctime.tv_nsec;
	}
}

/* Open for writing (i_writecount > 0) or mapped shared-writable (i_mmap_writable > 0): its
 * content may differ from what user space measured, so no old verdict applies. */
static __always_inline bool writable(struct inode *inode)
{
	if (inode->i_writecount.counter > 0)
		return true;
	struct address_space *m = inode->i_mapping;
	return m && m->i_mmap_writable.counter > 0;
}

static __always_inline __u8 digest_verdict(struct file *file, __u32 gen, __u32 op, bool bv)
{
	__u32 zero = 0;
	struct verity_buf *buf = bpf_map_lookup_elem(&ward_scratch, &zero);
	struct bpf_dynptr ptr;

	if (!buf)
		return 0;
	if (bpf_dynptr_from_mem(buf, sizeof(*buf), 0, &ptr))
		return 0;
	if (bpf_get_fsverity_digest(file, &ptr) < 0)
		return 0; /* no fs-verity on this file (ENODATA) */
	struct ward_digest_key key = { .gen = gen, .alg = buf->d.digest_algorithm, .size = buf->d.digest_size };
	if (key.size > 64)
		return 0;
	__builtin_memcpy(key.digest, buf->bytes, 64);
	struct ward_digest_verdict *v = bpf_map_lookup_elem(&ward_digests, &key);
	if (!v)
		return 0;
	/* An opaque index: clang would otherwise turn "+ bv" into "| bv" on the pointer, which the
	 * verifier refuses. */
	__u32 idx = (op & 7) * 2 + (bv ? 1 : 0);
	asm volatile("" : "+r"(idx));
	if (idx >= sizeof(v->verdict))
		return 0;
	return ((__u8 *)v->verdict)[idx];
}

static __always_inline int decide(struct file *file, __u32 op, __u32 hook, bool verity)
{
	__u32 zero = 0;
	struct ward_config *cfg = bpf_map_lookup_elem(&ward_config, &zero);
	if (!cfg)
		return 0; /* not configured yet: the loader writes config before attaching */
	/* Copy what we use at once: a later swap replaces the element, never edits it. */
	__u32 gen = cfg->gen, flags = cfg->flags, boot_dev = cfg->boot_dev;
	op &= 7;
	__u8 u_nofile = cfg->uncovered[op][0], u_off = cfg->uncovered[op][1], u_on = cfg->uncovered[op][2];
	if (!(flags & WARD_F_POLICY))
		return 0;

	__u8 v = u_nofile, src = WARD_SRC_NOFILE;
	__u32 dev = 0;
	__u64 ino = 0;
	struct inode *inode = file ? file->f_inode : 0;
	if (inode) {
		dev = inode->i_sb->s_dev;
		ino = inode->i_ino;
		bool bv = dev == boot_dev;
		v = bv ? u_on : u_off;
		src = WARD_SRC_UNCOVERED;
		struct ward_verdict_key key = { .gen = gen, .dev = dev, .ino = ino };
		struct ward_verdict *w = bpf_map_lookup_elem(&ward_verdicts, &key);
		if (w) {
			__s64 sec;
			__u32 nsec;
			inode_ctime(inode, &sec, &nsec);
			/* Bit 31 of ctime_nsec: user space could not read i_generation (no
			 * FS_IOC_GETVERSION on this filesystem): dev, ino and ctime must do. */
			bool gen_ok = (w->ctime_nsec & 0x80000000) || w->generation == inode->i_generation;
			if (w->ctime_sec == sec && (w->ctime_nsec & 0x3fffffff) == nsec && gen_ok && !writable(inode)) {
				__u32 i = op;
				asm volatile("" : "+r"(i));
				v = i < WARD_NOPS ? w->verdict[i] : WARD_DENY;
				src = WARD_SRC_VERDICT;
			} else {
				src = WARD_SRC_STALE;
			}
		}
		if (verity && src != WARD_SRC_VERDICT) {
			__u8 d = digest_verdict(file, gen, op, bv);
			if (d) {
				v = d;
				src = WARD_SRC_DIGEST;
			}
		}
	}

	bool denied = v != WARD_ALLOW; /* anything but an explicit ALLOW is a denial */
	bool enforced = denied && (flags & WARD_F_ENFORCE);
	count(0);
	if (denied)
		count(1);
	if (denied || (flags & WARD_F_AUDIT_SUCCESS)) {
		struct ward_event *e = bpf_ringbuf_reserve(&ward_events, sizeof(*e), 0);
		if (e) {
			__u64 id = bpf_get_current_pid_tgid();
			e->ino = ino;
			e->dev = dev;
			e->pid = (__u32)id;
			e->tgid = id >> 32;
			e->gen = gen;
			e->op = op;
			e->hook = hook;
			e->source = src;
			e->denied = denied;
			e->enforced = enforced;
			e->pad[0] = e->pad[1] = e->pad[2] = 0;
			bpf_get_current_comm(e->comm, sizeof(e->comm));
			bpf_ringbuf_submit(e, 0);
		} else {
			count(2);
		}
	}
	return enforced ? -EACCES : 0;
}

/* Each file hook comes twice: with the fs-verity kfunc (Linux 6.8+) and without; the loader
 * loads exactly one of each pair. */
#define FILE_HOOKS(SUFFIX, VERITY)                                                              \
	SEC("lsm/bprm_check_security")                                                          \
	int BPF_PROG(bprm_check_security##SUFFIX, struct linux_binprm *bprm)                    \
	{                                                                                       \
		return decide(bprm->file, WARD_OP_EXECUTE, WARD_HOOK_BPRM_CHECK, VERITY);       \
	}                                                                                       \
	SEC("lsm/mmap_file")                                                                    \
	int BPF_PROG(mmap_file##SUFFIX, struct file *file, unsigned long reqprot, unsigned long prot, \
		     unsigned long flags)                                                       \
	{                                                                                       \
		if (!(prot & PROT_EXEC))                                                        \
			return 0;                                                               \
		return decide(file, WARD_OP_EXECUTE, WARD_HOOK_MMAP, VERITY);                   \
	}                                                                                       \
	SEC("lsm/kernel_read_file")                                                             \
	int BPF_PROG(kernel_read_file##SUFFIX, struct file *file, enum kernel_read_file_id id,  \
		     bool contents)                                                             \
	{                                                                                       \
		return decide(file, read_op(id), WARD_HOOK_KERNEL_READ, VERITY);                \
	}

/* enum kernel_read_file_id → IPE op (ipe_kernel_read_file); values resolved per kernel. */
static __always_inline __u32 read_op(int id)
{
	if (id == bpf_core_enum_value(enum kernel_read_file_id, READING_FIRMWARE))
		return WARD_OP_FIRMWARE;
	if (id == bpf_core_enum_value(enum kernel_read_file_id, READING_MODULE))
		return WARD_OP_KMODULE;
	if (id == bpf_core_enum_value(enum kernel_read_file_id, READING_KEXEC_IMAGE))
		return WARD_OP_KEXEC_IMAGE;
	if (id == bpf_core_enum_value(enum kernel_read_file_id, READING_KEXEC_INITRAMFS))
		return WARD_OP_KEXEC_INITRAMFS;
	if (id == bpf_core_enum_value(enum kernel_read_file_id, READING_POLICY))
		return WARD_OP_POLICY;
	if (id == bpf_core_enum_value(enum kernel_read_file_id, READING_X509_CERTIFICATE))
		return WARD_OP_X509_CERT;
	return WARD_OP_INVALID;
}

/* enum kernel_load_data_id → IPE op (ipe_kernel_load_data). */
static __always_inline __u32 load_op(int id)
{
	if (id == bpf_core_enum_value(enum kernel_load_data_id, LOADING_FIRMWARE))
		return WARD_OP_FIRMWARE;
	if (id == bpf_core_enum_value(enum kernel_load_data_id, LOADING_MODULE))
		return WARD_OP_KMODULE;
	if (id == bpf_core_enum_value(enum kernel_load_data_id, LOADING_KEXEC_IMAGE))
		return WARD_OP_KEXEC_IMAGE;
	if (id == bpf_core_enum_value(enum kernel_load_data_id, LOADING_KEXEC_INITRAMFS))
		return WARD_OP_KEXEC_INITRAMFS;
	if (id == bpf_core_enum_value(enum kernel_load_data_id, LOADING_POLICY))
		return WARD_OP_POLICY;
	if (id == bpf_core_enum_value(enum kernel_load_data_id, LOADING_X509_CERTIFICATE))
		return WARD_OP_X509_CERT;
	return WARD_OP_INVALID;
}

FILE_HOOKS(, false)
FILE_HOOKS(_verity, true)

/* mprotect adding PROT_EXEC to a mapping that was not executable (ipe_file_mprotect). The
 * kfunc needs a trusted file pointer and vma->vm_file is not one: verdicts only. */
SEC("lsm/file_mprotect")
int BPF_PROG(file_mprotect, struct vm_area_struct *vma, unsigned long reqprot, unsigned long prot)
{
	if (vma->vm_flags & VM_EXEC)
		return 0;
	if (!(prot & PROT_EXEC))
		return 0;
	return decide(vma->vm_file, WARD_OP_EXECUTE, WARD_HOOK_MPROTECT, false);
}

/* A kernel buffer (init_module, kexec_load…): no file, every property false. */
SEC("lsm/kernel_load_data")
int BPF_PROG(kernel_load_data, enum kernel_load_data_id id, bool contents)
{
	return decide(0, load_op(id), WARD_HOOK_KERNEL_LOAD, false);
}

/* execveat(AT_EXECVE_CHECK) (Linux 6.14+): bprm->is_check. On older kernels the field does not
 * exist and this program is `return 0`. */
SEC("lsm/bprm_creds_for_exec")
int BPF_PROG(bprm_creds_for_exec, struct linux_binprm *bprm)
{
	if (!bpf_core_field_exists(bprm->is_check))
		return 0;
	if (!BPF_CORE_READ_BITFIELD(bprm, is_check))
		return 0;
	return decide(bprm->file, WARD_OP_EXECUTE, WARD_HOOK_BPRM_CREDS_FOR_EXEC, false);
}
