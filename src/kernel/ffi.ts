// The one place ward talks to libc (through koffi). Every call is synchronous on the calling
// thread — syscalls like prctl and landlock_restrict_self act on the thread that makes them.
// Functions are declared lazily so a host without koffi's prebuilt binary fails only when a
// kernel feature is actually used, with a clear error.

const { createRequire } = process.getBuiltinModule('node:module');
import { errnoName } from '../errors.ts';
import { KernelError } from './errors.ts';

export { sys } from './arch.ts';

type Koffi = typeof import('koffi');
type NativeFn = (...args: unknown[]) => number | bigint;

let koffi: Koffi | undefined;
let libc: ReturnType<Koffi['load']> | undefined;
const fns = new Map<string, NativeFn>();

// koffi's entry point spends ~10 ms reading Node's own executable to find which prebuilt binary
// fits; every `ward run` and `ward exec` pays for it. On glibc Linux the answer is known, so load
// that native module directly (same version only) and fall back to koffi's own detection.
let koffiEntry: string | undefined;

/** koffi's entry point as ward resolves it, once (the FFI loads from there; ward's seal refuses its directory). */
export function koffiMain(): string {
  koffiEntry ??= createRequire(import.meta.url).resolve('koffi');
  return koffiEntry;
}

function loadNative(): Koffi | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const req = createRequire(koffiMain());
    const version = (req('./package.json') as { version: string }).version;
    const native = req(`@koromix/koffi-linux-${process.arch}/linux_${process.arch}/koffi.node`) as Koffi & { version: string };
    return native.version === version ? native : undefined;
  } catch {
    return undefined;
  }
}

export function ffi(): Koffi {
  if (!koffi) {
    try {
      koffi = loadNative() ?? (createRequire(import.meta.url)('koffi') as Koffi);
    } catch (e) {
      throw new KernelError('ENOSYS', 'koffi', `cannot load the koffi FFI module (${(e as Error).message}); run "npm ci" in ward's directory`);
    }
  }
  return koffi;
}

function lib(): ReturnType<Koffi['load']> {
  libc ??= ffi().load('libc.so.6');
  return libc;
}

/** A libc function by C prototype, declared once. */
export function fn(prototype: string): NativeFn {
  let f = fns.get(prototype);
  if (!f) {
    f = lib().func(prototype) as unknown as NativeFn;
    fns.set(prototype, f);
  }
  return f;
}

export function lastErrno(): number {
  return ffi().errno();
}

/** Throws a KernelError for a -1 return, with the errno name. */
export function check(ret: number | bigint, syscall: string, what?: string): number {
  const n = Number(ret);
  if (n === -1) {
    const errno = lastErrno();
    const name = errnoName(errno);
    throw new KernelError(name, syscall, `${syscall}${what ? ` (${what})` : ''} failed: ${name}`);
  }
  return n;
}

export function syscall(nr: number, ...typedArgs: unknown[]): number {
  // No spread syntax: it runs Array.prototype[Symbol.iterator], which the program ward checks for
  // may have replaced or deleted (Node's test-require-delete-array-iterator does).
  return Number(Reflect.apply(fn('long syscall(long nr, ...)'), undefined, ([nr] as unknown[]).concat(typedArgs)));
}
