// The control socket's client side (the CLI's `ward policy load|list|…`, `ward enforce`).

import { connect } from 'node:net';
import { WardError, errorCode } from '../errors.ts';
import { encodeRequest, type ControlRequest, type ControlResponse } from './protocol.ts';

export async function request(socketPath: string, req: ControlRequest, timeoutMs = 30_000): Promise<ControlResponse> {
  return new Promise((resolve, reject) => {
    const c = connect(socketPath);
    let data = '';
    const timer = setTimeout(() => {
      c.destroy();
      reject(new WardError('ETIMEDOUT', `no answer from ward daemon on ${socketPath} within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    c.setEncoding('utf8');
    c.on('connect', () => {
      // A policy goes raw after the line (no base64, no 15 MB JSON string for 100,000 rules).
      const { line, body } = encodeRequest(req);
      c.write(line + '\n');
      for (const b of body) c.write(b);
    });
    c.on('data', (d: string) => (data += d));
    c.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(data) as ControlResponse);
      } catch {
        reject(new WardError('EPROTO', `ward daemon sent an unreadable answer: ${JSON.stringify(data.slice(0, 200))}`));
      }
    });
    c.on('error', (e) => {
      clearTimeout(timer);
      const code = errorCode(e);
      const why =
        code === 'ENOENT' || code === 'ECONNREFUSED'
          ? `ward daemon is not running (no socket at ${socketPath}); start it with "ward daemon" or systemctl start ward`
          : code === 'EACCES'
            ? `permission denied on ${socketPath}: only root (or the configured admin group) may manage policies`
            : e.message;
      reject(new WardError(code === 'EACCES' ? 'EPERM' : code, why));
    });
  });
}
