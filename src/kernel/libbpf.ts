// Thin koffi bindings to Debian's libbpf1 (libbpf 1.1, tools/lib/bpf/libbpf.h and bpf.h): open,
// load and attach BPF objects, pin links and maps on bpffs, read and write maps, drain ring
// buffers. No policy here. libbpf ≥ 1.0 returns -errno from int functions and NULL + errno from
// pointer functions ("libbpf 1.0 error reporting", tools/lib/bpf/libbpf_legacy.h).

import { errnoName } from '../errors.ts';
import { KernelError } from './errors.ts';
import { ffi, fn as libcFn } from './ffi.ts';

type Koffi = ReturnType<typeof ffi>;
type Lib = ReturnType<Koffi['load']>;
type NativeFn = (...args: unknown[]) => unknown;

/** An opaque libbpf pointer (struct bpf_object *, bpf_program *, bpf_link *, ring_buffer *). */
export type Ptr = object;

let lib: Lib | undefined;
const fns = new Map<string, NativeFn>();

function libbpf(): Lib {
  if (!lib) {
    try {
      lib = ffi().load('libbpf.so.1');
    } catch (e) {
      throw new KernelError('ENOSYS', 'dlopen', `cannot load libbpf.so.1 (${(e as Error).message}): install Debian's libbpf1 (apt-get install libbpf1)`);
    }
  }
  return lib;
}

function fn(prototype: string): NativeFn {
  let f = fns.get(prototype);
  if (!f) {
    f = libbpf().func(prototype) as unknown as NativeFn;
    fns.set(prototype, f);
  }
  return f;
}

function fail(call: string, errno: number, what?: string): never {
  const name = errnoName(errno);
  throw new KernelError(name, call, `${call}${what ? ` (${what})` : ''} failed: ${name}`);
}

/** -errno → KernelError; otherwise the value. */
function checked(ret: unknown, call: string, what?: string): number {
  const n = Number(ret);
  if (n < 0) fail(call, -n, what);
  return n;
}

function pointer(ret: unknown, call: string, what?: string): Ptr {
  if (ret === null || ret === undefined) fail(call, ffi().errno() || 5, what);
  return ret as Ptr;
}

// enum libbpf_print_level (libbpf.h).
export const LIBBPF_WARN = 0;
export const LIBBPF_INFO = 1;
export const LIBBPF_DEBUG = 2;

let printer: bigint | undefined;
let printSink: ((level: number, line: string) => void) | undefined;

/**
 * Routes libbpf's messages (the verifier log included) to `sink`. libbpf hands a printf format
 * and a va_list; libc's vsnprintf formats it (a va_list parameter is a pointer on x86-64 and
 * arm64). Called synchronously on this thread during libbpf calls.
 */
export function setLibbpfPrint(sink: (level: number, line: string) => void): void {
  printSink = sink;
  if (printer !== undefined) return;
  const k = ffi();
  const proto = k.proto('int ward_libbpf_print_fn(int level, const char *fmt, void *args)');
  const vsnprintf = libcFn('int vsnprintf(_Out_ uint8_t *buf, size_t size, const char *fmt, void *ap)');
  // One buffer for every message: libbpf prints a whole verifier log with one "%s" (a va_list is
  // consumed by one vsnprintf, so it cannot be retried with a bigger buffer).
  const buf = Buffer.alloc(1 << 20);
  printer = k.register((level: number, format: string, args: unknown) => {
    const n = Number(vsnprintf(buf, buf.length, format, args));
    const text = buf.subarray(0, Math.max(0, Math.min(n, buf.length - 1))).toString('utf8');
    for (const line of text.split('\n')) if (line.trim() !== '') printSink?.(level, line);
    return 0;
  }, k.pointer(proto));
  fn('void *libbpf_set_print(void *fn)')(printer);
}

export function openObject(path: string): Ptr {
  return pointer(fn('void *bpf_object__open_file(const char *path, void *opts)')(path, null), 'bpf_object__open_file', path);
}

export function findProgram(obj: Ptr, name: string): Ptr {
  return pointer(fn('void *bpf_object__find_program_by_name(void *obj, const char *name)')(obj, name), 'bpf_object__find_program_by_name', name);
}

export function setAutoload(prog: Ptr, autoload: boolean): void {
  checked(fn('int bpf_program__set_autoload(void *prog, bool autoload)')(prog, autoload), 'bpf_program__set_autoload');
}

export function loadObject(obj: Ptr): void {
  checked(fn('int bpf_object__load(void *obj)')(obj), 'bpf_object__load');
}

export function closeObject(obj: Ptr): void {
  fn('void bpf_object__close(void *obj)')(obj);
}

export function attachProgram(prog: Ptr, name: string): Ptr {
  return pointer(fn('void *bpf_program__attach(void *prog)')(prog), 'bpf_program__attach', name);
}

export function pinLink(link: Ptr, path: string): void {
  checked(fn('int bpf_link__pin(void *link, const char *path)')(link, path), 'bpf_link__pin', path);
}

/** Closes libbpf's handle (and fd) of a link: a link nobody else holds (no pin) detaches. */
export function destroyLink(link: Ptr): void {
  fn('int bpf_link__destroy(void *link)')(link);
}

export function mapFd(obj: Ptr, name: string): number {
  return checked(fn('int bpf_object__find_map_fd_by_name(void *obj, const char *name)')(obj, name), 'bpf_object__find_map_fd_by_name', name);
}

/** Pins every map of a loaded object under `dir` (one file per map name). */
export function pinMaps(obj: Ptr, dir: string): void {
  checked(fn('int bpf_object__pin_maps(void *obj, const char *path)')(obj, dir), 'bpf_object__pin_maps', dir);
}

/** BPF_OBJ_GET: an fd for a pinned map or link. */
export function objGet(path: string): number {
  return checked(fn('int bpf_obj_get(const char *pathname)')(path), 'bpf_obj_get', path);
}

// Map update flags (include/uapi/linux/bpf.h).
export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;

export function mapUpdate(fd: number, key: Uint8Array, value: Uint8Array, flags = BPF_ANY): void {
  checked(fn('int bpf_map_update_elem(int fd, const void *key, const void *value, uint64_t flags)')(fd, key, value, flags), 'bpf_map_update_elem');
}

/** true when found (value filled), false for ENOENT. */
export function mapLookup(fd: number, key: Uint8Array, value: Uint8Array): boolean {
  const r = Number(fn('int bpf_map_lookup_elem(int fd, const void *key, _Out_ uint8_t *value)')(fd, key, value));
  if (r === -2) return false;
  checked(r, 'bpf_map_lookup_elem');
  return true;
}

/** true when deleted, false for ENOENT. */
export function mapDelete(fd: number, key: Uint8Array): boolean {
  const r = Number(fn('int bpf_map_delete_elem(int fd, const void *key)')(fd, key));
  if (r === -2) return false;
  checked(r, 'bpf_map_delete_elem');
  return true;
}

/** The key after `key` (undefined: the first), or undefined at the end. */
export function mapNextKey(fd: number, key: Uint8Array | undefined, next: Uint8Array): boolean {
  const r = Number(fn('int bpf_map_get_next_key(int fd, const void *key, _Out_ uint8_t *next_key)')(fd, key ?? null, next));
  if (r === -2) return false;
  checked(r, 'bpf_map_get_next_key');
  return true;
}

let sampleProto: ReturnType<Koffi['proto']> | undefined;

export interface RingBuffer {
  readonly rb: Ptr;
  readonly callback: bigint;
}

/** ring_buffer__new with a callback that gets each record's bytes (copied). */
export function ringBufferNew(mapFd: number, onSample: (data: Uint8Array) => void): RingBuffer {
  const k = ffi();
  sampleProto ??= k.proto('int ward_ring_sample_fn(void *ctx, void *data, size_t size)');
  const callback = k.register((_ctx: unknown, data: unknown, size: number | bigint) => {
    onSample(new Uint8Array(k.view(data, Number(size)).slice(0)));
    return 0;
  }, k.pointer(sampleProto));
  const rb = pointer(fn('void *ring_buffer__new(int map_fd, void *sample_cb, void *ctx, void *opts)')(mapFd, callback, null, null), 'ring_buffer__new');
  return { rb, callback };
}

/** Handles every record available now, without waiting; returns how many. */
export function ringBufferConsume(r: RingBuffer): number {
  return checked(fn('int ring_buffer__consume(void *rb)')(r.rb), 'ring_buffer__consume');
}

export function ringBufferFree(r: RingBuffer): void {
  fn('void ring_buffer__free(void *rb)')(r.rb);
  ffi().unregister(r.callback);
}
