// SPDX-License-Identifier: GPL-2.0
/* ModAutoRestrict (Djalal Harouni's 2017 RFC, /work/shared/seeds/004) at the
 * kernel_module_request hook. Levels: 0 nothing changes; 1 auto-loading needs CAP_SYS_MODULE
 * (CAP_NET_ADMIN suffices for "netdev-%s" aliases); 2 never (final). A task's level only
 * rises, is copied to every child in task_alloc, and survives execve (task storage belongs to
 * the task, not the mm). The task's own level is checked first, then the global one.
 *
 * The levels are set through prctl(2) options that this program answers itself (the LSM hook
 * task_prctl returns -ENOSYS for options no LSM knows, and the kernel then handles them): so the
 * "never lower" rule is enforced in the kernel, and raising needs no privilege (as
 * no_new_privs). A BPF LSM program that returns 0 defers to the hook's default (the trampoline
 * then calls bpf_lsm_task_prctl, which says -ENOSYS, and the kernel answers EINVAL for an option
 * it does not know): so success is answered with -EALREADY, which prctl(2) never returns
 * otherwise for these options (WARD_PRCTL_DONE in ward.h). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "ward.h"

char LICENSE[] SEC("license") = "GPL";

#define EPERM 1
#define ENOMEM 12
#define EINVAL 22
#define ENOSYS 38
#define EALREADY 114
#define CAP_NET_ADMIN 12 /* include/uapi/linux/capability.h */
#define CAP_SYS_MODULE 16

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct ward_modauto_task);
} modauto_task SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ward_modauto_global);
} modauto_global SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, WARD_MODAUTO_LOG);
	__type(key, __u32);
	__type(value, struct ward_modauto_denial);
} modauto_log SEC(".maps");

/* kernel_cap_t was { __u32 cap[2]; } before 6.3, { u64 val; } since. */
struct kernel_cap_struct___old {
	__u32 cap[2];
} __attribute__((preserve_access_index));
struct cred___old {
	struct kernel_cap_struct___old cap_effective;
} __attribute__((preserve_access_index));

/* capable(cap) in the initial user namespace, from the current credentials. */
static __always_inline bool capable(int cap)
{
	struct task_struct *task = bpf_get_current_task_btf();
	const struct cred *cred = task->cred;
	if (!cred || cred->user_ns->level != 0)
		return false;
	if (bpf_core_field_exists(cred->cap_effective.val))
		return (cred->cap_effective.val >> cap) & 1;
	struct cred___old *old = (void *)cred;
	return (old->cap_effective.cap[0] >> cap) & 1; /* both caps are < 32 */
}

static __always_inline bool refuses(__u32 level, bool netdev)
{
	if (level >= 2)
		return true;
	if (level == 1)
		return !(capable(CAP_SYS_MODULE) || (netdev && capable(CAP_NET_ADMIN)));
	return false;
}

static __always_inline int request(char *kmod_name, bool read_name)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct ward_modauto_task *t = bpf_task_storage_get(&modauto_task, task, 0, 0);
	__u32 zero = 0, level = t ? t->level : 0, global = 0;
	struct ward_modauto_global *g = bpf_map_lookup_elem(&modauto_global, &zero);
	char name[56] = {};
	bool netdev = false;

	if (read_name) {
		/* bpf_probe_read_kernel_str is refused under lockdown=confidentiality: the loader
		 * then loads the _noname variant, where netdev-%s needs CAP_SYS_MODULE too. */
		bpf_probe_read_kernel_str(name, sizeof(name), kmod_name);
		netdev = name[0] == 'n' && name[1] == 'e' && name[2] == 't' && name[3] == 'd' && name[4] == 'e' &&
			 name[5] == 'v' && name[6] == '-';
	}
	if (!refuses(level, netdev)) {
		level = g ? g->level : 0;
		global = 1;
		if (!refuses(level, netdev))
			return 0;
	}
	if (g) {
		__u32 n = __sync_fetch_and_add(&g->denials, 1);
		__u32 slot = n % WARD_MODAUTO_LOG;
		struct ward_modauto_denial *d = bpf_map_lookup_elem(&modauto_log, &slot);
		if (d) {
			__u64 id = bpf_get_current_pid_tgid();
			d->seq = (__u64)n + 1;
			d->pid = (__u32)id;
			d->tgid = id >> 32;
			d->level = level;
			d->global = global;
			bpf_get_current_comm(d->comm, sizeof(d->comm));
			__builtin_memcpy(d->name, name, sizeof(name));
		}
	}
	return -EPERM;
}

SEC("lsm/kernel_module_request")
int BPF_PROG(kernel_module_request, char *kmod_name)
{
	return request(kmod_name, true);
}

SEC("lsm/kernel_module_request")
int BPF_PROG(kernel_module_request_noname, char *kmod_name)
{
	return request(kmod_name, false);
}

/* fork/clone: the child starts at its parent's level. If the kernel cannot allocate the child's
 * storage, the fork fails rather than let a child escape its level. */
SEC("lsm/task_alloc")
int BPF_PROG(task_alloc, struct task_struct *task, unsigned long clone_flags)
{
	struct ward_modauto_task *p = bpf_task_storage_get(&modauto_task, bpf_get_current_task_btf(), 0, 0);
	if (!p || !p->level)
		return 0;
	struct ward_modauto_task *c = bpf_task_storage_get(&modauto_task, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!c)
		return -ENOMEM;
	c->level = p->level;
	return 0;
}

SEC("lsm/task_prctl")
int BPF_PROG(task_prctl, int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5)
{
	if (option == WARD_PR_MODULE_AUTOLOAD) {
		if (arg2 > 2 || arg3 || arg4 || arg5)
			return -EINVAL;
		struct ward_modauto_task *t =
			bpf_task_storage_get(&modauto_task, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (!t)
			return -ENOMEM;
		if (arg2 < t->level)
			return -EPERM; /* levels only rise */
		t->level = arg2;
		return -EALREADY;
	}
	if (option == WARD_PR_MODULE_AUTOLOAD_GLOBAL) {
		if (arg2 > 2 || arg3 || arg4 || arg5)
			return -EINVAL;
		if (!capable(CAP_SYS_MODULE))
			return -EPERM;
		__u32 zero = 0;
		struct ward_modauto_global *g = bpf_map_lookup_elem(&modauto_global, &zero);
		if (!g)
			return -ENOMEM;
		__u32 old = g->level;
		if (old == 2)
			return arg2 == 2 ? -EALREADY : -EPERM; /* 2 is final */
		if (__sync_val_compare_and_swap(&g->level, old, (__u32)arg2) != old)
			return -EPERM; /* raced with another change (maybe to 2): refuse, the caller may retry */
		return -EALREADY;
	}
	return -ENOSYS; /* not ours: the kernel's own prctl handles it */
}
