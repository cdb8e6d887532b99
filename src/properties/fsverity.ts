// The fs-verity file digest computed in user space, exactly as fs-verity defines it
// (Documentation/filesystems/fsverity.rst, "File digest computation"): a Merkle tree over
// 4096-byte blocks (the last one zero-padded), no salt; the root hash is the hash of the single
// top block (for a one-block file, of that data block; for an empty file, all zeros); the file
// digest is the hash of the 256-byte fsverity_descriptor holding the root hash and the size.
// Always read through the given fd with explicit offsets (pread): the fd's position is untouched
// and the bytes hashed are the bytes of the file that fd refers to.

import { hash } from 'node:crypto';
import { readSync } from 'node:fs';

export type VerityAlgorithm = 'sha256' | 'sha512';

export const FSVERITY_BLOCK_SIZE = 4096;
const ALG_ID: Record<VerityAlgorithm, number> = { sha256: 1, sha512: 2 };
const DIGEST_SIZE: Record<VerityAlgorithm, number> = { sha256: 32, sha512: 64 };
const CHUNK = 4 * 1024 * 1024;

function hashBlock(alg: VerityAlgorithm, block: Uint8Array): Buffer {
  return hash(alg, block, 'buffer');
}

/** Hashes a level of hashes packed into zero-padded blocks → the next level. */
function nextLevel(alg: VerityAlgorithm, level: Buffer): Buffer {
  const out = Buffer.allocUnsafe(Math.ceil(level.length / FSVERITY_BLOCK_SIZE) * DIGEST_SIZE[alg]);
  const block = Buffer.alloc(FSVERITY_BLOCK_SIZE);
  let o = 0;
  for (let off = 0; off < level.length; off += FSVERITY_BLOCK_SIZE) {
    const part = level.subarray(off, off + FSVERITY_BLOCK_SIZE);
    let input: Uint8Array = part;
    if (part.length < FSVERITY_BLOCK_SIZE) {
      block.fill(0);
      part.copy(block);
      input = block;
    }
    hashBlock(alg, input).copy(out, o);
    o += DIGEST_SIZE[alg];
  }
  return out;
}

export interface VerityProgress {
  (doneBytes: number, totalBytes: number): void;
}

/**
 * Root hash of the Merkle tree over `size` bytes read from fd. `onData` sees every byte read, in
 * order (so a caller can hash the same bytes another way — e.g. md5 for dpkg's record — in the
 * same pass, and both digests are of one content).
 */
export function merkleRoot(fd: number, size: number, alg: VerityAlgorithm, onProgress?: VerityProgress, onData?: (bytes: Buffer) => void): Buffer {
  const ds = DIGEST_SIZE[alg];
  if (size === 0) return Buffer.alloc(ds);
  const blocks = Math.ceil(size / FSVERITY_BLOCK_SIZE);
  let level: Buffer = Buffer.allocUnsafe(blocks * ds);
  // Small files (most executables and scripts) get a buffer of their own size: a 4 MiB
  // allocation per call would cost more than hashing them.
  const buf = Buffer.allocUnsafe(Math.min(CHUNK, blocks * FSVERITY_BLOCK_SIZE));
  let pos = 0;
  let b = 0;
  while (pos < size) {
    const want = Math.min(buf.length, size - pos);
    let got = 0;
    while (got < want) {
      const n = readSync(fd, buf, got, want - got, pos + got);
      if (n === 0) break; // truncated under us: hash what is there, padded, as a short file
      got += n;
    }
    if (got > 0) onData?.(buf.subarray(0, got));
    if (got < want) buf.fill(0, got, want);
    for (let off = 0; off < want; off += FSVERITY_BLOCK_SIZE) {
      const end = Math.min(off + FSVERITY_BLOCK_SIZE, want);
      let input: Uint8Array = buf.subarray(off, off + FSVERITY_BLOCK_SIZE);
      if (end - off < FSVERITY_BLOCK_SIZE) {
        const last = Buffer.alloc(FSVERITY_BLOCK_SIZE);
        buf.copy(last, 0, off, end);
        input = last;
      }
      hashBlock(alg, input).copy(level, b * ds);
      b++;
    }
    pos += want;
    onProgress?.(pos, size);
  }
  while (level.length > ds) level = nextLevel(alg, level);
  return level;
}

/** The 256-byte fsverity_descriptor (fs/verity/fsverity_private.h), salt-less, unsigned. */
export function verityDescriptor(alg: VerityAlgorithm, size: number, root: Buffer): Buffer {
  const d = Buffer.alloc(256);
  d.writeUInt8(1, 0); // version
  d.writeUInt8(ALG_ID[alg], 1);
  d.writeUInt8(12, 2); // log2(4096)
  d.writeUInt8(0, 3); // salt_size
  d.writeUInt32LE(0, 4); // sig_size: 0 when computing the digest
  d.writeBigUInt64LE(BigInt(size), 8);
  root.copy(d, 16); // root_hash[64], zero-padded
  return d;
}

/** The fs-verity file digest of the first `size` bytes of fd. */
export function computeVerityDigest(fd: number, size: number, alg: VerityAlgorithm = 'sha256', onProgress?: VerityProgress, onData?: (bytes: Buffer) => void): Buffer {
  return hashBlock(alg, verityDescriptor(alg, size, merkleRoot(fd, size, alg, onProgress, onData)));
}
