// The control socket: a unix stream socket, one request per connection (a JSON line, and a
// policy's raw bytes after it: protocol.ts), one JSON answer. Who may ask is decided here, from
// the kernel's SO_PEERCRED (not from anything the client says): root, or a member of the
// configured admin group (primary or supplementary, from /proc/PID/status of the peer). What
// each verb lets them do: docs/daemon.md.

import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { WardError, errorCode } from '../errors.ts';
import { peerCredentials } from '../kernel/io.ts';
import { isJsonObject } from '../util/json.ts';
import { attachBody, bodyLength, parseRequest, type ControlRequest, type ControlResponse } from './protocol.ts';

export interface Peer {
  pid: number;
  uid: number;
  gid: number;
}

/** A group name or number → gid (undefined when /etc/group has no such group). */
export function groupId(group: string): number | undefined {
  if (/^\d+$/.test(group)) return Number(group);
  try {
    const line = readFileSync('/etc/group', 'utf8').split('\n').find((l) => l.split(':')[0] === group);
    return line ? Number(line.split(':')[2]) : undefined;
  } catch {
    return undefined;
  }
}

function peerGroups(pid: number): number[] {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('Groups:'));
    return line ? line.slice(7).trim().split(/\s+/).filter(Boolean).map(Number) : [];
  } catch {
    return [];
  }
}

/** Root always; a member of adminGid when one is configured; nobody else. */
export function authorized(peer: Peer, adminGid: number | undefined): boolean {
  if (peer.uid === 0) return true;
  if (adminGid === undefined) return false;
  return peer.gid === adminGid || peerGroups(peer.pid).includes(adminGid);
}

const MAX_REQUEST = 64 * 1024 * 1024;

/**
 * Connection limits. A client that connects and then sends nothing (or half a request) would hold
 * a connection and its buffers for as long as it liked; the admin group is not root. idleMs: a
 * connection with no bytes for that long while its request is incomplete is closed (reset by
 * every chunk, so a large policy on a slow link still arrives; not applied while ward works on
 * the answer). maxConnections: connections from clients other than root beyond it are answered
 * EAGAIN and closed. Root's are not counted: with a net.Server-wide limit an admin-group client
 * holding that many connections locked root out (its request failed with a bare EPIPE), so root
 * could not even switch enforcement back on.
 */
export interface ControlLimits {
  readonly idleMs: number;
  readonly maxConnections: number;
}
export const CONTROL_LIMITS: ControlLimits = { idleMs: 30_000, maxConnections: 64 };

export class ControlServer {
  readonly path: string;
  readonly #adminGroup: string | undefined;
  readonly #adminGid: number | undefined;
  readonly #handle: (req: ControlRequest, peer: Peer) => Promise<ControlResponse>;
  #server: Server | undefined;
  readonly #limits: ControlLimits;
  #nonRoot = 0; // open connections from peers other than root
  #refused = 0; // of those beyond the limit, still closing

  constructor(path: string, adminGroup: string | undefined, handle: (req: ControlRequest, peer: Peer) => Promise<ControlResponse>, limits: ControlLimits = CONTROL_LIMITS) {
    this.path = path;
    this.#limits = limits;
    this.#adminGroup = adminGroup;
    this.#handle = handle;
    if (adminGroup !== undefined) {
      this.#adminGid = groupId(adminGroup);
      if (this.#adminGid === undefined) throw new WardError('EINVAL', `adminGroup "${adminGroup}" does not exist`);
    }
  }

  async listen(): Promise<void> {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o755 });
    if (existsSync(this.path)) unlinkSync(this.path);
    const server = createServer((c) => this.#serve(c));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.path, resolve);
    });
    chmodSync(this.path, this.#adminGid === undefined ? 0o600 : 0o660);
    if (this.#adminGid !== undefined) chownSync(this.path, 0, this.#adminGid);
  }

  #serve(c: Socket): void {
    let peer: Peer;
    try {
      peer = peerCredentials((c as unknown as { _handle: { fd: number } })._handle.fd);
    } catch {
      c.end(JSON.stringify({ ok: false, errno: 'EPERM', message: 'cannot identify the client' }) + '\n');
      return;
    }
    if (peer.uid !== 0) {
      if (this.#nonRoot >= this.#limits.maxConnections) {
        // Refused with an answer, up to as many again (then, like net.Server's own limit, closed
        // at once). The request is read and dropped before closing: a unix socket closed with
        // unread bytes resets its peer (ECONNRESET, unix_release_sock), losing the answer; one
        // second for the client to close its side.
        if (this.#refused >= this.#limits.maxConnections) return void c.destroy();
        this.#refused++;
        c.once('close', () => this.#refused--);
        c.on('error', () => c.destroy());
        c.setTimeout(1000, () => c.destroy());
        c.resume();
        c.end(JSON.stringify({ ok: false, errno: 'EAGAIN', message: `ward daemon: ${this.#limits.maxConnections} connections from clients other than root are open; try again later` }) + '\n');
        return;
      }
      this.#nonRoot++;
      c.once('close', () => this.#nonRoot--);
    }
    // The request line, then (for a policy sent raw) exactly the byte count it names. A request
    // can be tens of MB: keep the chunks and look for the newline only in each new one
    // (searching the whole buffer every time is quadratic); the body is copied once.
    const chunks: Buffer[] = [];
    let size = 0;
    let doc: unknown;
    let need = -1; // body bytes still to come, -1 while the line is incomplete
    c.setTimeout(this.#limits.idleMs, () => c.destroy());
    const finish = (r: Promise<ControlResponse>) => {
      c.setTimeout(0);
      c.removeAllListeners('data');
      void r.then((answer) => c.end(JSON.stringify(answer) + '\n'));
    };
    const received = () => {
      const body = Buffer.concat(chunks, size);
      finish(this.#answer(isJsonObject(doc) ? attachBody(doc, body) : doc, peer));
    };
    c.on('data', (chunk: Buffer) => {
      if (need < 0) {
        const nl = chunk.indexOf(0x0a);
        if (nl < 0) {
          chunks.push(chunk);
          size += chunk.length;
          if (size > MAX_REQUEST) c.destroy();
          return;
        }
        chunks.push(chunk.subarray(0, nl));
        try {
          doc = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          doc = undefined;
        }
        const length = bodyLength(doc, MAX_REQUEST);
        if (typeof length === 'string') return finish(Promise.resolve({ ok: false, errno: 'EINVAL', message: length }));
        need = length;
        chunks.length = 0;
        size = 0;
        chunk = chunk.subarray(nl + 1);
      }
      const take = chunk.subarray(0, need - size);
      // More bytes than the counts name: the counts are wrong, and the policy would be cut
      // short (a truncated text can lose its DENY rules and still parse). Refused, not guessed
      // around. (Bytes a peer sends only after the answer was decided are not seen.)
      if (need > 0 && chunk.length > take.length) {
        return finish(Promise.resolve({ ok: false, errno: 'EINVAL', message: `more bytes than "textBytes" and "pkcs7Bytes" name (${need}): the counts must match the raw bytes sent` }));
      }
      if (take.length > 0) chunks.push(take);
      size += take.length;
      if (size === need) received();
    });
    c.on('error', () => c.destroy());
  }

  async #answer(doc: unknown, peer: Peer): Promise<ControlResponse> {
    if (!authorized(peer, this.#adminGid)) {
      return { ok: false, errno: 'EPERM', message: `uid ${peer.uid} may not manage ward policies (root${this.#adminGroup ? ` or group ${this.#adminGroup}` : ''} only)` };
    }
    const req = parseRequest(doc);
    if (typeof req === 'string') return { ok: false, errno: 'EINVAL', message: req };
    try {
      return await this.#handle(req, peer);
    } catch (e) {
      return { ok: false, errno: errorCode(e), message: (e as Error).message };
    }
  }

  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    if (existsSync(this.path)) unlinkSync(this.path);
  }
}
