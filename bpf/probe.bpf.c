// SPDX-License-Identifier: GPL-2.0
/* The smallest LSM program: does this kernel accept BPF LSM programs at all? (ward status and
 * `backend: auto` load and attach it, then drop it.) Some kernels list "bpf" among their LSMs
 * yet refuse every trampoline program with EPERM before the verifier runs. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("lsm/file_open")
int BPF_PROG(ward_probe, struct file *file)
{
	return 0;
}
