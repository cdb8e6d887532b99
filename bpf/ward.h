/* Layouts shared by ward.bpf.c and its user space (src/enforcer/bpf-maps.ts encodes the same
 * bytes; test/bpf/maps.test.ts checks the sizes). Little-endian, naturally aligned, no holes. */
#ifndef WARD_BPF_H
#define WARD_BPF_H

/* IPE's ops in ward's order (src/policy/model.ts OPS); WARD_OP_INVALID is a
 * kernel_read_file/kernel_load_data id IPE has no op for: IPE then applies the global DEFAULT,
 * or denies when there is none (security/ipe/eval.c). */
#define WARD_OP_EXECUTE 0
#define WARD_OP_FIRMWARE 1
#define WARD_OP_KMODULE 2
#define WARD_OP_KEXEC_IMAGE 3
#define WARD_OP_KEXEC_INITRAMFS 4
#define WARD_OP_POLICY 5
#define WARD_OP_X509_CERT 6
#define WARD_OP_INVALID 7
#define WARD_NOPS 8

/* IPE's ipe_hook names (security/ipe/hooks.h enum ipe_hook_type), as audit records print them. */
#define WARD_HOOK_BPRM_CHECK 0
#define WARD_HOOK_MMAP 1
#define WARD_HOOK_MPROTECT 2
#define WARD_HOOK_KERNEL_READ 3
#define WARD_HOOK_KERNEL_LOAD 4
#define WARD_HOOK_BPRM_CREDS_FOR_EXEC 5

/* Where a decision came from. */
#define WARD_SRC_NOFILE 0   /* no file (anonymous memory, a kernel buffer): every property false */
#define WARD_SRC_UNCOVERED 1 /* a file no verdict covers: only what the kernel itself knows */
#define WARD_SRC_VERDICT 2  /* user space's verdict for this exact file identity */
#define WARD_SRC_DIGEST 3   /* the kernel's own fs-verity measurement (bpf_get_fsverity_digest) */
#define WARD_SRC_STALE 4    /* a verdict existed but the file changed or is writable: uncovered */

#define WARD_ALLOW 1
#define WARD_DENY 2

#define WARD_F_POLICY 1        /* a policy is active (else: allow everything, like IPE) */
#define WARD_F_ENFORCE 2       /* 0 = permissive: audit, never deny */
#define WARD_F_AUDIT_SUCCESS 4 /* report allowed decisions too */

/* The one entry (key 0) of the `config` hash map. A hash map update links a new element
 * before unlinking the old one (kernel/bpf/hashtab.c), so a hook sees the whole old value or
 * the whole new one: generation, flags and the uncovered table switch together. */
struct ward_config {
	__u32 gen;      /* policy generation: verdict and digest keys carry it */
	__u32 flags;    /* WARD_F_* */
	__u32 boot_dev; /* kernel dev_t (MKDEV) of the superblock ward calls boot_verified */
	__u32 daemon_tgid;
	/* [op][ctx]: ctx 0 = no file, 1 = a file not on the boot superblock, 2 = one on it.
	 * WARD_ALLOW or WARD_DENY: the decision for anything no verdict covers. */
	__u8 uncovered[WARD_NOPS][4];
};

struct ward_verdict_key {
	__u32 gen;
	__u32 dev; /* kernel dev_t of the file's superblock */
	__u64 ino;
};

/* The identity the kernel re-checks at the hook: a mismatch makes the verdict stale. */
struct ward_verdict {
	__s64 ctime_sec;
	__u32 ctime_nsec; /* bit 31 set: generation unknown, not compared */
	__u32 generation; /* inode->i_generation */
	__u8 verdict[WARD_NOPS]; /* WARD_ALLOW / WARD_DENY per op */
};

struct ward_digest_key {
	__u32 gen;
	__u16 alg;  /* FS_VERITY_HASH_ALG_SHA256 = 1, SHA512 = 2 (include/uapi/linux/fsverity.h) */
	__u16 size;
	__u8 digest[64];
};

struct ward_digest_verdict {
	__u8 verdict[WARD_NOPS][2]; /* [op][boot_verified] */
};

struct ward_event {
	__u64 ino;
	__u32 dev;
	__u32 pid;
	__u32 tgid;
	__u32 gen;
	__u8 op;
	__u8 hook;
	__u8 source;
	__u8 denied;   /* the policy said DENY */
	__u8 enforced; /* and the kernel refused (enforce on) */
	__u8 pad[3];
	char comm[16];
};

/* ModAutoRestrict (modauto.bpf.c). */
#define WARD_PR_MODULE_AUTOLOAD 0x57410001        /* prctl(option, level): raise this task's level */
#define WARD_PR_MODULE_AUTOLOAD_GLOBAL 0x57410002 /* prctl(option, level): set the global level */
/* prctl answers: -1 with errno EALREADY = done (a BPF LSM program cannot make a hook return 0
 * over its default), EPERM = refused, EINVAL = bad level or the programs are not loaded. */
#define WARD_PRCTL_DONE 114

struct ward_modauto_task {
	__u32 level;
};

struct ward_modauto_global {
	__u32 level;
	__u32 denials; /* total count; the last ones are in `modauto_log` */
};

struct ward_modauto_denial {
	__u64 seq; /* 1-based; 0 = empty slot */
	__u32 pid;
	__u32 tgid;
	__u32 level; /* the level that refused (per-task or global) */
	__u32 global; /* 1 when the global level refused */
	char comm[16];
	char name[56]; /* empty when the kernel refuses kernel reads (lockdown=confidentiality) */
};
#define WARD_MODAUTO_LOG 64

#endif
