// Policy management verbs (the daemon's control socket, or the kernel's securityfs with
// --kernel): argument handling and output only.

import type { Command } from 'commander';
import { request } from '../enforcer/client.ts';
import { DEFAULTS, loadConfig } from '../enforcer/config.ts';
import type { ControlRequest, ControlResponse } from '../enforcer/protocol.ts';
import { kernelIpe } from '../enforcer/securityfs.ts';
import { errorCode } from '../errors.ts';
import { CliError, EXIT_FAIL, EXIT_OK, displayName, printJson, readInput } from './io.ts';

export type AsyncRun = (fn: () => number | Promise<number>) => void;

interface ClientFlags {
  socket?: string;
  config?: string;
  json?: boolean;
  kernel?: boolean;
}

function socketPath(f: ClientFlags): string {
  if (f.socket) return f.socket;
  const c = loadConfig(f.config);
  return c.ok ? c.value.socket : DEFAULTS.socket;
}

async function call(f: ClientFlags, req: ControlRequest, show: (r: ControlResponse & { ok: true }) => string): Promise<number> {
  let r: ControlResponse;
  try {
    r = await request(socketPath(f), req);
  } catch (e) {
    throw new CliError(errorCode(e), (e as Error).message, EXIT_FAIL);
  }
  if (f.json) printJson(r);
  else if (r.ok) process.stdout.write(show(r));
  else {
    const where = r.line !== undefined ? ` (line ${r.line}, column ${r.column}${r.token ? `, ${JSON.stringify(r.token)}` : ''})` : '';
    process.stderr.write(`ward: ${r.errno}: ${r.message}${where}\n`);
  }
  return r.ok ? EXIT_OK : EXIT_FAIL;
}

function kernelOnly(f: ClientFlags, fn: () => string | void): number {
  if (!f.kernel) throw new Error('internal: kernelOnly without --kernel');
  try {
    const out = fn();
    if (out) process.stdout.write(out);
    return EXIT_OK;
  } catch (e) {
    throw new CliError(errorCode(e), (e as Error).message, EXIT_FAIL);
  }
}

const b64 = (file: string) => Buffer.from(readInput(file)).toString('base64');

function clientOptions(c: Command, kernel = true): Command {
  c.option('--socket <path>', `the daemon's control socket (default from the config, ${DEFAULTS.socket})`).option('--config <file>', 'daemon configuration file').option('--json', 'print the daemon\'s JSON answer');
  if (kernel) c.option('--kernel', 'act on the kernel\'s IPE (/sys/kernel/security/ipe) instead of ward daemon');
  return c;
}

export function registerManageCommands(policy: Command, program: Command, run: AsyncRun): void {
  clientOptions(policy.command('load').description('load a policy (not activated; a name already loaded is EEXIST)').argument('<file>', 'policy file, or -'))
    .option('--signed <p7s>', 'the policy signed as IPE takes it: PKCS#7 DER with the content attached (must contain FILE)')
    .action((file: string, f: ClientFlags & { signed?: string }) =>
      run(async () => {
        if (f.kernel) return kernelOnly(f, () => kernelIpe.load(readInput(f.signed ?? file)));
        return call(f, { verb: 'load', text: b64(file), ...(f.signed ? { pkcs7: b64(f.signed) } : {}) }, (r) => `loaded "${r.name}" version ${r.version}${r.signed ? ' (signature verified)' : ''} from ${displayName(file)} (not active: ward policy activate ${r.name})\n`);
      }),
    );
  clientOptions(policy.command('list').description('list loaded policies')).action((f: ClientFlags) =>
    run(async () => {
      if (f.kernel) return kernelOnly(f, () => kernelIpe.list().map((p) => `${p.active ? '*' : ' '} ${p.name} ${p.version}\n`).join(''));
      return call(f, { verb: 'list' }, (r) => {
        const ps = r.policies as Array<{ name: string; version: string; active: boolean; rules: number }>;
        return ps.length === 0 ? 'no policies loaded (everything is allowed)\n' : ps.map((p) => `${p.active ? '*' : ' '} ${p.name} ${p.version} (${p.rules} rules)${p.active ? ' active' : ''}\n`).join('');
      });
    }),
  );
  clientOptions(policy.command('show').description('print a loaded policy as it was given').argument('<name>')).action((name: string, f: ClientFlags) =>
    run(async () => {
      if (f.kernel) return kernelOnly(f, () => kernelIpe.show(name).toString('latin1'));
      return call(f, { verb: 'show', name }, (r) => Buffer.from(r.text as string, 'base64').toString('latin1'));
    }),
  );
  clientOptions(policy.command('activate').description('make a loaded policy the active one (an older version than the active one is EINVAL)').argument('<name>')).action((name: string, f: ClientFlags) =>
    run(async () => (f.kernel ? kernelOnly(f, () => kernelIpe.activate(name)) : call(f, { verb: 'activate', name }, (r) => `active: "${r.name}" version ${r.version}\n`))),
  );
  clientOptions(policy.command('update').description('replace a loaded policy with a higher version of the same name (ESTALE / EINVAL otherwise)').argument('<name>').argument('<file>'))
    .option('--signed <p7s>', 'the new version signed (PKCS#7 DER, content attached)')
    .action((name: string, file: string, f: ClientFlags & { signed?: string }) =>
      run(async () =>
        f.kernel
          ? kernelOnly(f, () => kernelIpe.update(name, readInput(f.signed ?? file)))
          : call(f, { verb: 'update', name, text: b64(file), ...(f.signed ? { pkcs7: b64(f.signed) } : {}) }, (r) => `updated "${r.name}" to version ${r.version}${r.active ? ' (active)' : ''}\n`),
      ),
    );
  clientOptions(policy.command('delete').description('delete a loaded policy (the active one is EPERM)').argument('<name>')).action((name: string, f: ClientFlags) =>
    run(async () => (f.kernel ? kernelOnly(f, () => kernelIpe.delete(name)) : call(f, { verb: 'delete', name }, () => `deleted "${name}"\n`))),
  );

  const onOff = (v: string): boolean => {
    if (v !== 'on' && v !== 'off') throw new CliError('EINVAL', `expected on or off, got "${v}"`);
    return v === 'on';
  };
  clientOptions(program.command('enforce').description('enforce the active policy (on) or only audit its denials (off, permissive)').argument('<on|off>')).action((v: string, f: ClientFlags) =>
    run(async () => (f.kernel ? kernelOnly(f, () => kernelIpe.enforce(onOff(v))) : call(f, { verb: 'enforce', on: onOff(v) }, () => `enforce ${v}\n`))),
  );
  clientOptions(program.command('audit-success').description('also audit allowed decisions (on) or only denials (off)').argument('<on|off>')).action((v: string, f: ClientFlags) =>
    run(async () => (f.kernel ? kernelOnly(f, () => kernelIpe.auditSuccess(onOff(v))) : call(f, { verb: 'audit-success', on: onOff(v) }, () => `audit-success ${v}\n`))),
  );
  clientOptions(program.command('daemon-status').description('what the running daemon is doing: mode, active policy, mounts, counters'), false).action((f: ClientFlags) =>
    run(async () =>
      call(f, { verb: 'status' }, (r) =>
        [
          `pid ${r.pid}, ${r.enforce ? 'enforcing' : 'permissive'}${r.auditSuccess ? ', auditing successes' : ''}`,
          `active policy: ${r.active ? `${(r.active as { name: string }).name} ${(r.active as { version: string }).version}` : 'none (everything is allowed)'}; version floor ${r.floor ?? 'none'}`,
          `watching ${(r.mounts as string[]).length} mount(s)${r.libraries ? ' (executables and libraries)' : ''}: ${(r.mounts as string[]).join(' ')}`,
          `events ${r.events}: allowed ${r.allowed}, denied ${r.denied}, cache hits ${r.cacheHits}, errors ${r.errors}, answered by mode because the queue was full ${r.queueFull}`,
          '',
        ].join('\n'),
      ),
    ),
  );
}
