// Policy management as one interface with two implementations, chosen once: ward daemon's store
// over its control socket, or the kernel's own IPE through securityfs (`--kernel`). The CLI calls
// the interface and prints the answer; it never asks which one it has.

import { errorCode } from '../errors.ts';
import { rawText as toRaw, versionString } from '../policy/model.ts';
import { parsePolicy } from '../policy/parser.ts';
import { request } from './client.ts';
import type { ControlRequest, ControlResponse } from './protocol.ts';
import { kernelVerityWarning } from './ipe-backend.ts';
import { kernelIpe } from './securityfs.ts';

export interface PolicyInput {
  text: Uint8Array;
  /** PKCS#7 DER with the text attached, when signed. */
  pkcs7?: Uint8Array;
}

export interface PolicyManager {
  readonly where: 'daemon' | 'kernel';
  load(p: PolicyInput): Promise<ControlResponse>;
  list(): Promise<ControlResponse>;
  show(name: string): Promise<ControlResponse>;
  activate(name: string): Promise<ControlResponse>;
  update(name: string, p: PolicyInput): Promise<ControlResponse>;
  delete(name: string): Promise<ControlResponse>;
  enforce(on: boolean): Promise<ControlResponse>;
  auditSuccess(on: boolean): Promise<ControlResponse>;
  status(): Promise<ControlResponse>;
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

/** ward daemon's store, over the control socket. Transport failures throw (ENOENT, EPERM…). */
export class DaemonPolicyManager implements PolicyManager {
  readonly where = 'daemon' as const;
  readonly socket: string;
  constructor(socket: string) {
    this.socket = socket;
  }
  #call(req: ControlRequest): Promise<ControlResponse> {
    return request(this.socket, req);
  }
  /**
   * A policy goes raw after the request line; a daemon from before that form (still running
   * while ward itself is upgraded, when the apt hook updates the policy) answers that the
   * request has no "text": then the same request again, base64 in the line.
   */
  async #withPolicy(req: Extract<ControlRequest, { verb: 'load' | 'update' }>, p: PolicyInput): Promise<ControlResponse> {
    const r = await this.#call({ ...req, text: p.text, ...(p.pkcs7 ? { pkcs7: p.pkcs7 } : {}) });
    if (r.ok || r.errno !== 'EINVAL' || !/^"(load|update)" needs "text"/.test(r.message)) return r;
    return this.#call({ ...req, text: b64(p.text), ...(p.pkcs7 ? { pkcs7: b64(p.pkcs7) } : {}) });
  }
  load(p: PolicyInput) {
    return this.#withPolicy({ verb: 'load', text: '' }, p);
  }
  list() {
    return this.#call({ verb: 'list' });
  }
  show(name: string) {
    return this.#call({ verb: 'show', name });
  }
  activate(name: string) {
    return this.#call({ verb: 'activate', name });
  }
  update(name: string, p: PolicyInput) {
    return this.#withPolicy({ verb: 'update', name, text: '' }, p);
  }
  delete(name: string) {
    return this.#call({ verb: 'delete', name });
  }
  enforce(on: boolean) {
    return this.#call({ verb: 'enforce', on });
  }
  auditSuccess(on: boolean) {
    return this.#call({ verb: 'audit-success', on });
  }
  status() {
    return this.#call({ verb: 'status' });
  }
}

/** Name and version as the policy text says (the kernel parses it again and has the last word). */
function nameOf(p: PolicyInput): { name?: string; version?: string } {
  const r = parsePolicy(p.text);
  return r.ok ? { name: r.value.name, version: versionString(r.value.version) } : {};
}

/** The fsverity_digest warning (ipe-backend.ts) as an answer's `warnings`, for what goes to the kernel. */
function verityWarnings(name: string | undefined, text: Uint8Array | string): { warnings?: string[] } {
  const w = kernelVerityWarning(name ?? '?', text);
  return w ? { warnings: [w] } : {};
}

/** The kernel's IPE (securityfs): the same verbs as plain file writes; answers shaped like the daemon's. */
export class KernelPolicyManager implements PolicyManager {
  readonly where = 'kernel' as const;
  async #do(f: () => Record<string, unknown> | void): Promise<ControlResponse> {
    try {
      return { ok: true, ...(f() ?? {}) };
    } catch (e) {
      return { ok: false, errno: errorCode(e), message: (e as Error).message };
    }
  }
  // The kernel takes the signed blob when there is one (new_policy verifies it itself).
  load(p: PolicyInput) {
    return this.#do(() => (kernelIpe.load(p.pkcs7 ?? p.text), { ...nameOf(p), signed: p.pkcs7 !== undefined, ...verityWarnings(nameOf(p).name, p.text) }));
  }
  // Names from the command line are UTF-8 text; the kernel's are the bytes of policy_name (toRaw).
  list() {
    return this.#do(() => ({ policies: kernelIpe.list().map(({ name, version, active }) => ({ name, version, active, rules: null })) }));
  }
  show(name: string) {
    return this.#do(() => ({ name, text: kernelIpe.show(toRaw(name)).toString('base64') }));
  }
  activate(name: string) {
    return this.#do(() => (kernelIpe.activate(toRaw(name)), { name, version: kernelIpe.list().find((x) => x.rawName === toRaw(name))?.version ?? '?', ...verityWarnings(name, kernelIpe.show(toRaw(name))) }));
  }
  update(name: string, p: PolicyInput) {
    return this.#do(() => (kernelIpe.update(toRaw(name), p.pkcs7 ?? p.text), { ...nameOf(p), active: kernelIpe.list().find((x) => x.rawName === toRaw(name))?.active ?? false, ...verityWarnings(name, p.text) }));
  }
  delete(name: string) {
    return this.#do(() => kernelIpe.delete(toRaw(name)));
  }
  enforce(on: boolean) {
    return this.#do(() => (kernelIpe.enforce(on), { enforce: on }));
  }
  auditSuccess(on: boolean) {
    return this.#do(() => (kernelIpe.auditSuccess(on), { auditSuccess: on }));
  }
  async status(): Promise<ControlResponse> {
    return { ok: false, errno: 'EINVAL', message: 'daemon-status is about ward daemon; the kernel\'s IPE state is under /sys/kernel/security/ipe' };
  }
}

/** The one place the choice is made. */
export function policyManager(o: { kernel?: boolean; socket: string }): PolicyManager {
  return o.kernel ? new KernelPolicyManager() : new DaemonPolicyManager(o.socket);
}
