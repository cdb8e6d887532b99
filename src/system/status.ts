// The machine's capability matrix: what the kernel offers and what ward can do with it here.

import { closeSync, existsSync, readFileSync } from 'node:fs';
import { execveCheckSupported } from '../kernel/exec-check.ts';
import { FAN_CLASS_CONTENT, FAN_CLOEXEC, fanotifyInit } from '../kernel/fanotify.ts';
import { landlockAbi, landlockErrata } from '../kernel/landlock.ts';
import { BASELINE_ABI, SCOPE_ABI, TCP_ABI, TSYNC_ABI } from '../sandbox/rights.ts';
import { decodeExecBits, getSecurebits } from '../kernel/securebits.ts';
import { machineProviders, propertyBackings } from '../properties/providers.ts';
import { errorCode } from '../errors.ts';
import { activeLsms } from '../kernel/lsm.ts';
import { bpfLsmStatus } from './bpf-status.ts';
import { sandboxLayersItem } from './sandbox-status.ts';
import { kernelIpe } from '../enforcer/securityfs.ts';
import { displayText } from '../policy/model.ts';

export interface StatusItem {
  name: string;
  value: string | number | boolean | null;
  /** true: ward can use it fully here; false: missing or not usable; 'partial': usable with limits. */
  usable: boolean | 'partial';
  meaning: string;
  /** What ward reads: for property lines e.g. "device-mapper table" (value says who: kernel, user-space, absent); for the BPF LSM the directory of its BPF objects. */
  source?: string;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function capEff(): bigint {
  const line = readText('/proc/self/status')?.split('\n').find((l) => l.startsWith('CapEff:'));
  return line ? BigInt('0x' + line.split(/\s+/)[1]) : 0n;
}

const CAP_SYS_ADMIN = 21n;
const CAP_MAC_ADMIN = 33n;

function fanotifyStatus(): StatusItem {
  try {
    closeSync(fanotifyInit(FAN_CLASS_CONTENT | FAN_CLOEXEC, 0));
    // Not "every exec": what fanotify cannot see is listed by ward daemon-status (FANOTIFY_GAPS).
    const memfd = readText('/proc/sys/vm/memfd_noexec')?.trim();
    const userns = readText('/proc/sys/user/max_user_namespaces')?.trim();
    const open = [
      memfd === '2' ? undefined : `memfd execution (sysctl vm.memfd_noexec=${memfd ?? 'absent'}; 2 refuses executable memfds)`,
      userns === '0' ? undefined : `filesystems users mount in their own user namespaces (user.max_user_namespaces=${userns ?? '?'}; 0 closes it)`,
      'mmap(PROT_EXEC) of files already open, interpreters that do not ask',
    ].filter((x) => x !== undefined);
    return { name: 'fanotify permission events', value: true, usable: 'partial', meaning: `ward daemon decides execs on the filesystems it watches (FAN_OPEN_EXEC_PERM), from user space, failing open while it is down; not decided here: ${open.join('; ')} (ward daemon-status lists every limit)` };
  } catch (e) {
    const code = errorCode(e);
    if (code === 'EPERM') return { name: 'fanotify permission events', value: 'no privilege', usable: false, meaning: 'needs CAP_SYS_ADMIN: run ward daemon as root' };
    return { name: 'fanotify permission events', value: code, usable: false, meaning: 'this kernel lacks fanotify permission events (CONFIG_FANOTIFY_ACCESS_PERMISSIONS): ward daemon cannot enforce' };
  }
}

/** What the kernel's IPE enforces now, read from securityfs (whoever deployed it). */
function kernelIpeState(): string {
  try {
    const active = kernelIpe.list().find((p) => p.active);
    if (!active) return 'no policy is active in the kernel (IPE allows everything)';
    return `the kernel ${kernelIpe.enforcing() ? 'enforces' : 'audits only (enforce=0)'} policy "${displayText(active.name)}" ${active.version}`;
  } catch (e) {
    return `its state is unreadable here (${errorCode(e)})`;
  }
}

export function machineStatus(): StatusItem[] {
  const abi = landlockAbi();
  const errata = abi > 0 ? landlockErrata() : 0;
  const bits = decodeExecBits(getSecurebits());
  const providers = machineProviders();
  const listed = activeLsms();
  const lsms = listed.ok ? listed.value : (readText('/sys/kernel/security/lsm')?.split(',') ?? []);
  const ipeActive = lsms.includes('ipe');
  const ipe = existsSync('/sys/kernel/security/ipe');
  const caps = capEff();
  const root = process.getuid?.() === 0;
  const modulesDisabled = readText('/proc/sys/kernel/modules_disabled');
  const modules = existsSync('/proc/modules');
  const items: StatusItem[] = [
    {
      name: 'Landlock ABI',
      value: abi,
      usable: abi >= 1 ? (abi >= BASELINE_ABI ? true : 'partial') : false,
      meaning: abi === 0 ? 'no Landlock: ward run cannot sandbox (strict mode refuses)' : `ward run can restrict ${abi >= TCP_ABI ? 'files and TCP ports' : 'files'}${abi >= SCOPE_ABI ? ', signals and abstract unix sockets' : ''}${abi >= TSYNC_ABI ? '; TSYNC restricts all threads' : '; restrict_self binds only the calling thread (ward restricts then execs)'}`,
    },
    { name: 'Landlock errata', value: `0x${errata.toString(16)}`, usable: true, meaning: 'fixed errata (bit N-1 = erratum N); used only to enable features, never to weaken a sandbox' },
    {
      name: 'AT_EXECVE_CHECK',
      value: execveCheckSupported(),
      usable: execveCheckSupported(),
      meaning: execveCheckSupported() ? 'ward check / trustedFor ask the kernel (mechanism "kernel")' : 'trustedFor emulates the trusted_for policy in user space (mechanism "emulated")',
    },
    {
      name: 'exec securebits',
      value: `restrict_file=${bits.restrictFile ? 1 : 0}${bits.restrictFileLocked ? ' (locked)' : ''} deny_interactive=${bits.denyInteractive ? 1 : 0}${bits.denyInteractiveLocked ? ' (locked)' : ''}`,
      usable: execveCheckSupported(),
      meaning: "set with ward exec; enlightened interpreters (ward node) enforce checks when they are on. They bind only interpreters that honour them: a shell or other program run under them can start a plain node, or one told to run code before ward's preload (--inspect-brk, --build-snapshot); keep such programs out with the exec policy (IPE, ward daemon)",
    },
    fanotifyStatus(),
    bpfLsmStatus(),
    {
      name: 'kernel IPE',
      value: ipeActive,
      usable: ipeActive && ipe,
      meaning: !ipeActive
        ? 'not built in: ward enforces IPE policies from user space (ward daemon)'
        : ipe
          ? `policies can also be deployed to the kernel (/sys/kernel/security/ipe; ward daemon --backend ipe); ${kernelIpeState()}`
          : 'IPE is active but securityfs is not mounted: mount -t securityfs securityfs /sys/kernel/security',
    },
    { name: 'LSMs', value: lsms.join(',') || 'unknown', usable: true, meaning: 'security modules active in this kernel (lsm_list_modules)' },
    {
      name: 'fs-verity',
      value: providers.kernelFsverity,
      usable: providers.kernelFsverity ? true : 'partial',
      meaning: propertyBackings(providers).fsverity_digest!.detail,
    },
    {
      name: 'dm-verity',
      value: providers.kernelDmverity,
      usable: providers.kernelDmverity ? (providers.dmveritySignatures === true ? true : 'partial') : false,
      meaning: !providers.kernelDmverity
        ? 'this kernel has no dm-verity: dmverity_roothash and dmverity_signature never match'
        : `ward reads a file's dm-verity root hash${providers.dmveritySignatures === true ? ' and root-hash signature' : ''} from its device-mapper table${
            providers.dmveritySignatures === true ? '' : providers.dmveritySignatures === false ? '; this dm-verity cannot check root-hash signatures' : '; whether it checks root-hash signatures is not known until dm-verity is loaded'
          }${(caps >> CAP_SYS_ADMIN) & 1n ? '' : ' (reading tables needs CAP_SYS_ADMIN, which this process lacks: both are unknown here)'}`,
    },
    {
      name: 'loadable modules',
      value: modules ? (modulesDisabled === '1' ? 'disabled' : true) : false,
      usable: modules && modulesDisabled !== '1' ? 'partial' : false,
      meaning: modules ? 'the kernel can load modules (ward gates Node module loading; kernel module autoload is out of reach from user space)' : 'no loadable module support in this kernel: nothing to gate',
    },
    {
      name: 'privileges',
      value: root ? 'root' : `uid ${process.getuid?.()}`,
      usable: (caps >> CAP_SYS_ADMIN) & 1n ? true : 'partial',
      meaning: `CAP_SYS_ADMIN ${(caps >> CAP_SYS_ADMIN) & 1n ? 'yes' : 'no'} (daemon), CAP_MAC_ADMIN ${(caps >> CAP_MAC_ADMIN) & 1n ? 'yes' : 'no'} (kernel IPE policy writes); ward check, exec and run work unprivileged`,
    },
    sandboxLayersItem(abi),
    {
      name: 'Node.js',
      value: process.versions.node,
      usable: typeof (process as { execve?: unknown }).execve === 'function' ? true : 'partial',
      meaning: `module.registerHooks ${typeof (process as unknown as { getBuiltinModule?: (n: string) => { registerHooks?: unknown } }).getBuiltinModule?.('node:module')?.registerHooks === 'function' ? 'available' : 'missing'} (enlightened node)`,
    },
  ];
  for (const [name, b] of Object.entries(propertyBackings(providers))) {
    items.push({ name: `property ${name}`, value: b.kind, source: b.source, usable: b.kind === 'kernel' || b.kind === 'user-space' ? true : false, meaning: b.detail });
  }
  return items;
}
