// Policy management verbs (ward daemon's control socket, or the kernel's securityfs with
// --kernel): argument handling and output only. Which one is chosen once (policyManager).

import { errorCode } from '../errors.ts';
import type { Command } from 'commander';
import { DEFAULTS, loadConfig } from '../enforcer/config.ts';
import { terminalSafe } from '../util/terminal.ts';
import { displayText } from '../policy/model.ts';
import { policyManager, type PolicyInput, type PolicyManager } from '../enforcer/policy-manager.ts';
import type { ControlResponse } from '../enforcer/protocol.ts';
import { CliError, EXIT_FAIL, EXIT_OK, displayName, printJson, readInput, type Run } from './io.ts';

interface ClientFlags {
  socket?: string;
  config?: string;
  json?: boolean;
  kernel?: boolean;
}

type Ok = ControlResponse & { ok: true };

function manager(f: ClientFlags): PolicyManager {
  let socket = f.socket;
  if (!socket) {
    const c = loadConfig(f.config);
    socket = c.ok ? c.value.socket : DEFAULTS.socket;
  }
  return policyManager({ kernel: f.kernel, socket });
}

/**
 * Runs one verb and prints its answer: text, or with --json one JSON object (the daemon's answer
 * as it is, a refusal included; a failure to ask is reported by the command's run, as JSON).
 */
async function call(f: ClientFlags, verb: (m: PolicyManager) => Promise<ControlResponse>, show: (r: Ok) => string | Uint8Array): Promise<number> {
  let r: ControlResponse;
  try {
    r = await verb(manager(f));
  } catch (e) {
    throw new CliError(errorCode(e), (e as Error).message, EXIT_FAIL);
  }
  if (f.json) printJson(r);
  else if (r.ok) {
    process.stdout.write(show(r));
    // What the backend wants the requester to know (the kernel's IPE and fsverity_digest rules).
    for (const w of (r.warnings as string[] | undefined) ?? []) process.stderr.write(`ward: warning: ${terminalSafe(w)}\n`);
  }
  else {
    const where = r.line !== undefined ? ` (line ${r.line}, column ${r.column}${r.token ? `, ${JSON.stringify(r.token)}` : ''})` : '';
    process.stderr.write(`ward: ${r.errno}: ${terminalSafe(r.message)}${terminalSafe(where)}\n`);
  }
  return r.ok ? EXIT_OK : EXIT_FAIL;
}

const t = (v: unknown) => terminalSafe(String(v));
const input = (file: string, signed?: string): PolicyInput => ({ text: readInput(file), ...(signed ? { pkcs7: readInput(signed) } : {}) });

function clientOptions(c: Command, kernel = true): Command {
  c.option('--socket <path>', `the daemon's control socket (default from the config, ${DEFAULTS.socket})`).option('--config <file>', 'daemon configuration file').option('--json', 'print the answer as one JSON object');
  if (kernel) c.option('--kernel', 'act on the kernel\'s IPE (/sys/kernel/security/ipe) instead of ward daemon');
  return c;
}

const onOff = (v: string): boolean => {
  if (v !== 'on' && v !== 'off') throw new CliError('EINVAL', `expected on or off, got "${v}"`);
  return v === 'on';
};

function statusText(r: Ok): string {
  const mounts = (r.mounts as string[] | undefined) ?? [];
  const active = r.active as { name: string; version: string } | null;
  return [
    `pid ${r.pid}, ${r.enforce ? 'enforcing' : 'permissive'}${r.auditSuccess ? ', auditing successes' : ''}${r.deciding === false ? ' — NOTHING IS DECIDED (no filesystem watched)' : ''}`,
    `active policy: ${active ? `${t(active.name)} ${t(active.version)}` : 'none (everything is allowed)'}; version floor ${r.floor ?? 'none'}`,
    ...(r.backend === 'ipe'
      ? [`backend ipe (failure mode closed: the kernel keeps its policies): ${t(r.summary)}; hooks ${((r.hooks as string[] | undefined) ?? []).map(t).join(' ')}`]
      : r.backend === 'bpf'
      ? [`backend bpf (failure mode ${t(r.failureMode)}): ${((r.programs as string[] | undefined) ?? []).length} LSM programs at ${((r.hooks as string[] | undefined) ?? []).map(t).join(' ')}; ${t(r.coveredFiles)} files covered under ${((r.cover as string[] | undefined) ?? []).map(t).join(' ') || 'nothing'} (generation ${t(r.generation)}); fs-verity kfunc ${r.verityKfunc ? 'used' : 'absent'}`]
      : [
          `backend ${t(r.backend)}: watching ${mounts.length} filesystem(s)${r.libraries ? ' (executables and libraries)' : ''}: ${mounts.map(t).join(' ')}`,
          `events ${r.events}: allowed ${r.allowed}, denied ${r.denied}, cache hits ${r.cacheHits}, errors ${r.errors}, answered by mode because the queue was full ${r.queueFull}, timed out ${r.timeouts ?? 0}, refused as open for writing ${r.openForWrite ?? 0}`,
        ]),
    ...((r.gaps as string[] | undefined) ?? []).map((g) => `limit: ${t(g)}`),
    '',
  ].join('\n');
}

export function registerManageCommands(policy: Command, program: Command, run: Run): void {
  clientOptions(policy.command('load').description('load a policy (not activated; a name already loaded is EEXIST)').argument('<file>', 'policy file, or -'))
    .option('--signed <p7s>', 'the policy signed as IPE takes it: PKCS#7 DER with the content attached (must contain FILE)')
    .action((file: string, f: ClientFlags & { signed?: string }) =>
      run(async () => {
        const p = input(file, f.signed);
        return call(f, (m) => m.load(p), (r) => `loaded "${t(r.name)}" version ${t(r.version)}${r.signed ? ' (signature verified)' : ''} from ${t(displayName(file))} (not active: ward policy activate ${t(r.name)})\n`);
      }, f.json),
    );
  clientOptions(policy.command('list').description('list loaded policies')).action((f: ClientFlags) =>
    run(async () =>
      call(f, (m) => m.list(), (r) => {
        const ps = r.policies as Array<{ name: string; version: string; active: boolean; rules: number | null }>;
        return ps.length === 0 ? 'no policies loaded (everything is allowed)\n' : ps.map((p) => `${p.active ? '*' : ' '} ${t(p.name)} ${t(p.version)}${p.rules === null ? '' : ` (${p.rules} rules)`}${p.active ? ' active' : ''}\n`).join('');
      }),
    f.json),
  );
  clientOptions(policy.command('show').description('print a loaded policy as it was given').argument('<name>')).action((name: string, f: ClientFlags) =>
    run(async () => call(f, (m) => m.show(name), (r) => {
      // As given, byte for byte, into a file or a pipe (a Buffer: a string would be re-encoded as
      // UTF-8); on a terminal, decoded as UTF-8 with control characters made visible.
      const bytes = Buffer.from(r.text as string, 'base64');
      return process.stdout.isTTY ? terminalSafe(displayText(bytes.toString('latin1')), '\n') : bytes;
    }), f.json),
  );
  clientOptions(policy.command('activate').description('make a loaded policy the active one (an older version than the active one is EINVAL)').argument('<name>')).action((name: string, f: ClientFlags) =>
    run(async () => call(f, (m) => m.activate(name), (r) => `active: "${t(r.name)}" version ${t(r.version)}\n`), f.json),
  );
  clientOptions(policy.command('update').description('replace a loaded policy with a higher version of the same name (ESTALE / EINVAL otherwise)').argument('<name>').argument('<file>'))
    .option('--signed <p7s>', 'the new version signed (PKCS#7 DER, content attached)')
    .action((name: string, file: string, f: ClientFlags & { signed?: string }) =>
      run(async () => {
        const p = input(file, f.signed);
        return call(f, (m) => m.update(name, p), (r) => `updated "${t(r.name)}" to version ${t(r.version)}${r.active ? ' (active)' : ''}\n`);
      }, f.json),
    );
  clientOptions(policy.command('delete').description('delete a loaded policy (the active one is EPERM)').argument('<name>')).action((name: string, f: ClientFlags) =>
    run(async () => call(f, (m) => m.delete(name), () => `deleted "${t(name)}"\n`), f.json),
  );
  clientOptions(program.command('enforce').description('enforce the active policy (on) or only audit its denials (off, permissive)').argument('<on|off>')).action((v: string, f: ClientFlags) =>
    run(async () => {
      const on = onOff(v);
      return call(f, (m) => m.enforce(on), () => `enforce ${v}\n`);
    }, f.json),
  );
  clientOptions(program.command('audit-success').description('also audit allowed decisions (on) or only denials (off)').argument('<on|off>')).action((v: string, f: ClientFlags) =>
    run(async () => {
      const on = onOff(v);
      return call(f, (m) => m.auditSuccess(on), () => `audit-success ${v}\n`);
    }, f.json),
  );
  clientOptions(program.command('daemon-status').description('what the running daemon is doing: mode, active policy, filesystems, counters, what it cannot decide'), false).action((f: ClientFlags) =>
    run(async () => call(f, (m) => m.status(), statusText), f.json),
  );
}
