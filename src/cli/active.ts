// The running daemon's active policy, for `ward policy eval --active` and `ward trust check
// --active`: asked over the control socket with the daemon's ordinary verbs (status, show).

import { request } from '../enforcer/client.ts';
import { DEFAULTS, loadConfig } from '../enforcer/config.ts';
import { errorCode } from '../errors.ts';
import { CliError, EXIT_FAIL } from './io.ts';

export function daemonSocket(socket: string | undefined): string {
  if (socket) return socket;
  const c = loadConfig(undefined);
  return c.ok ? c.value.socket : DEFAULTS.socket;
}

/** The active policy's name and text (the bytes it was loaded with). */
export async function activePolicy(socket: string | undefined): Promise<{ name: string; text: Uint8Array }> {
  const path = daemonSocket(socket);
  const ask = async (req: Parameters<typeof request>[1]) => {
    try {
      const r = await request(path, req);
      if (!r.ok) throw new CliError(errorCode({ code: r.errno }), r.message, EXIT_FAIL);
      return r;
    } catch (e) {
      if (e instanceof CliError) throw e;
      throw new CliError(errorCode(e), (e as Error).message, EXIT_FAIL);
    }
  };
  const status = await ask({ verb: 'status' });
  const active = status.active as { name?: unknown } | null | undefined;
  if (!active || typeof active.name !== 'string') throw new CliError('ENOENT', 'ward daemon has no active policy (everything is allowed)', EXIT_FAIL);
  const shown = await ask({ verb: 'show', name: active.name });
  if (typeof shown.text !== 'string') throw new CliError('EPROTO', 'ward daemon answered "show" without the policy text', EXIT_FAIL);
  return { name: active.name, text: Buffer.from(shown.text, 'base64') };
}
