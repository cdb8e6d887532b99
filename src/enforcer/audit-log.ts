// The audit log on disk: one JSON record per line, appended, rotated by size (path → path.1 →
// … → path.keep), copied to stderr for journald; read back oldest first, and followed.

import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync, unlinkSync, watch, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { WardError, errorCode } from '../errors.ts';
import type { AuditRecord } from './audit.ts';

export interface AuditSinkOptions {
  path: string;
  maxBytes: number;
  keep: number;
  stderr: boolean;
}

/** Appends records; rotates path → path.1 → … → path.keep when it grows past maxBytes. */
export class AuditLog {
  #options: AuditSinkOptions;
  #fd: number | undefined;
  #size = 0;

  constructor(options: AuditSinkOptions) {
    this.#options = options;
    mkdirSync(dirname(options.path), { recursive: true, mode: 0o750 });
    this.#open();
  }

  get options(): Readonly<AuditSinkOptions> {
    return this.#options;
  }

  /** New size limit, kept files and stderr copy (the daemon's reload): the next write follows them. */
  configure(o: Omit<AuditSinkOptions, 'path'>): void {
    this.#options = { ...this.#options, maxBytes: o.maxBytes, keep: o.keep, stderr: o.stderr };
  }

  #open(): void {
    this.#fd = openSync(this.#options.path, 'a', 0o640);
    this.#size = fstatSync(this.#fd).size;
  }

  #rotate(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    const { path, keep } = this.#options;
    for (let i = keep - 1; i >= 1; i--) if (existsSync(`${path}.${i}`)) renameSync(`${path}.${i}`, `${path}.${i + 1}`);
    if (keep >= 1) renameSync(path, `${path}.1`);
    else unlinkSync(path);
    this.#open();
  }

  write(record: AuditRecord): void {
    const line = JSON.stringify(record) + '\n';
    if (this.#options.stderr) process.stderr.write(line);
    if (this.#fd === undefined) return;
    if (this.#size + line.length > this.#options.maxBytes && this.#size > 0) this.#rotate();
    const buf = Buffer.from(line);
    writeSync(this.#fd, buf);
    this.#size += buf.length;
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}

/** Reads the log and its rotated files, oldest first. */
export function readAuditRecords(path: string, keep = 100): AuditRecord[] {
  checkAuditPath(path);
  const files: string[] = [];
  for (let i = keep; i >= 1; i--) if (existsSync(`${path}.${i}`)) files.push(`${path}.${i}`);
  if (existsSync(path)) files.push(path);
  const out: AuditRecord[] = [];
  for (const f of files) {
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        out.push(JSON.parse(line) as AuditRecord);
      } catch {
        /* a torn last line after a crash: skip */
      }
    }
  }
  return out;
}


/** A clear error for a log path that is not a readable regular file. */
export function checkAuditPath(path: string): void {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    const code = errorCode(e);
    if (code === 'ENOENT') throw new WardError('ENOENT', `no audit log at ${path} (is ward daemon running? see --log)`);
    throw new WardError(code === 'EACCES' ? 'EACCES' : 'EIO', `cannot read the audit log ${path}: ${code}`);
  }
  if (st.isDirectory()) throw new WardError('EISDIR', `${path} is a directory; --log takes the audit log file (e.g. ${path.replace(/\/$/, '')}/audit.jsonl)`);
  if (!st.isFile()) throw new WardError('EINVAL', `${path} is not a regular file; --log takes the audit log file`);
}

/** Calls onRecord for every record appended to path from now on (rotation followed); returns a stop function. */
export function followAudit(path: string, onRecord: (r: AuditRecord) => void, onError: (e: WardError) => void): () => void {
  let offset = statSync(path).size;
  let partial = '';
  const readNew = () => {
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      return; // rotated away for a moment: the next change event finds the new file
    }
    if (size < offset) offset = 0;
    if (size === offset) return;
    const buf = Buffer.alloc(size - offset);
    const fd = openSync(path, 'r');
    try {
      readSync(fd, buf, 0, buf.length, offset);
    } finally {
      closeSync(fd);
    }
    offset = size;
    const lines = (partial + buf.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line) continue;
      try {
        onRecord(JSON.parse(line) as AuditRecord);
      } catch {
        onError(new WardError('EBADMSG', `${path}: a line is not a JSON record: ${JSON.stringify(line.slice(0, 80))}`));
      }
    }
  };
  const w = watch(path, () => readNew());
  w.on('error', (e) => onError(new WardError('EIO', `cannot follow ${path}: ${e.message}`)));
  return () => w.close();
}
