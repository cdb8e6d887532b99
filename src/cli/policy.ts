// `ward policy …`: argument handling and output only; the work is in src/policy.

import type { Command } from 'commander';
import { closeSync, openSync } from 'node:fs';
import { PropertyReader } from '../properties/context.ts';
import { registerManageCommands } from './manage.ts';
import { registerGenerateCommand } from './generate.ts';
import { contextFromJson, RecordingContext } from '../policy/context.ts';
import { CompiledPolicy } from '../policy/compiled.ts';
import { formatPolicy } from '../policy/format.ts';
import { OPS, versionString, type Policy } from '../policy/model.ts';
import { decisionJson, decisionText } from '../policy/decision.ts';
import { renderParseError } from '../policy/errors.ts';
import { parsePolicy, validatePolicy } from '../policy/parser.ts';
import { CliError, EXIT_FAIL, EXIT_OK, EXIT_USAGE, displayName, printJson, readInput, writeFileAtomic, type Run } from './io.ts';
import { policyParseFailure } from './policy-error.ts';
import { terminalSafe } from '../util/terminal.ts';
import { errorCode } from '../errors.ts';

interface JsonFlag {
  json?: boolean;
}

function loadPolicy(file: string): Policy {
  const text = readInput(file);
  const r = parsePolicy(text);
  if (!r.ok) throw policyParseFailure(displayName(file), file, text, r.error, EXIT_USAGE);
  return r.value;
}

function check(file: string, opts: JsonFlag & { kernel?: boolean }): number {
  const text = readInput(file);
  const r = validatePolicy(text);
  if (opts.json) {
    if (r.ok) printJson({ ok: true, name: r.value.name, version: versionString(r.value.version), rules: r.value.rules });
    else printJson({ ok: false, ...r.error.toJSON() });
  } else if (r.ok) {
    process.stdout.write(`${terminalSafe(displayName(file))}: ok: policy "${terminalSafe(r.value.name)}" version ${versionString(r.value.version)}, ${r.value.rules} rule${r.value.rules === 1 ? '' : 's'}\n`);
  } else {
    process.stderr.write(renderParseError(displayName(file), text, r.error) + '\n');
  }
  return r.ok ? EXIT_OK : EXIT_FAIL;
}

function fmt(file: string, opts: { write?: boolean; check?: boolean }): number {
  const text = readInput(file);
  const r = parsePolicy(text);
  if (!r.ok) {
    process.stderr.write(renderParseError(displayName(file), text, r.error) + '\n');
    return EXIT_FAIL;
  }
  const out = formatPolicy(r.value);
  const same = Buffer.compare(Buffer.from(out), Buffer.from(text)) === 0;
  if (opts.check) {
    if (!same) process.stderr.write(terminalSafe(`${displayName(file)}: not in canonical form (run: ward policy fmt --write ${file})`) + '\n');
    return same ? EXIT_OK : EXIT_FAIL;
  }
  if (opts.write) {
    if (file === '-') throw new CliError('EINVAL', '--write needs a file, not standard input');
    if (!same) writeFileAtomic(file, out);
    return EXIT_OK;
  }
  // As formatted, byte for byte, into a file or a pipe; on a terminal, decoded as UTF-8 with
  // control characters (a comment can hold ESC) made visible, as `ward policy show` does.
  process.stdout.write(process.stdout.isTTY ? terminalSafe(Buffer.from(out).toString('utf8'), '\n') : out);
  return EXIT_OK;
}

function evalFiles(policy: Policy, paths: string[], opts: JsonFlag & { op: string }): number {
  const engine = new CompiledPolicy(policy);
  const reader = new PropertyReader();
  const results: Array<Record<string, unknown>> = [];
  for (const path of paths) {
    let fd: number | undefined;
    try {
      fd = openSync(path, 'r');
      // The properties the decision used, as the engine asked for them.
      const ctx = new RecordingContext(reader.contextForFd(fd));
      const d = engine.decide(opts.op, ctx);
      results.push({ path, ...decisionJson(d, opts.op), properties: ctx.asked });
      if (!opts.json) {
        const used = Object.entries(ctx.asked).map(([k, v]) => `${k}=${v === null ? 'unknown' : String(v)}`);
        process.stdout.write(`${terminalSafe(path)}: ${terminalSafe(decisionText(d))}\n${used.length ? `  properties: ${terminalSafe(used.join(' '))}\n` : ''}`);
      }
    } catch (e) {
      const code = errorCode(e);
      results.push({ path, error: code });
      if (!opts.json) process.stderr.write(`ward: ${terminalSafe(path)}: cannot read: ${code}\n`);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
  if (opts.json) printJson({ results });
  if (results.some((r) => r.error)) return EXIT_USAGE;
  return results.every((r) => r.action === 'ALLOW') ? EXIT_OK : EXIT_FAIL;
}

type EvalFlags = JsonFlag & { op: string; context?: string; active?: boolean; socket?: string };

async function evalCommand(file: string | undefined, paths: string[], opts: EvalFlags): Promise<number> {
  if (!opts.active) {
    if (file === undefined) throw new CliError('EINVAL', 'name the policy file (or - for standard input), or use --active for the daemon\'s active policy');
    return evalWith(() => loadPolicy(file), paths, opts);
  }
  // --active: every positional argument is a file to decide.
  const { activePolicy } = await import('./active.ts');
  const active = await activePolicy(opts.socket);
  const r = parsePolicy(active.text);
  if (!r.ok) throw policyParseFailure(`active policy "${active.name}"`, undefined, active.text, r.error, EXIT_FAIL);
  return evalWith(() => r.value, file === undefined ? paths : [file, ...paths], opts);
}

function evalWith(load: () => Policy, paths: string[], opts: EvalFlags): number {
  if (!(OPS as readonly string[]).includes(opts.op)) {
    throw new CliError('EINVAL', `unknown op "${opts.op}"; use one of ${OPS.join(', ')}`);
  }
  if (paths.length > 0) {
    if (opts.context !== undefined) throw new CliError('EINVAL', 'give either files to evaluate or --context, not both');
    return evalFiles(load(), paths, opts);
  }
  let doc: unknown = {};
  if (opts.context !== undefined) {
    try {
      doc = JSON.parse(opts.context);
    } catch (e) {
      throw new CliError('EINVAL', `--context is not valid JSON: ${(e as Error).message}`);
    }
  }
  const ctx = contextFromJson(doc, '--context');
  if (!ctx.ok) throw new CliError(ctx.error.code, ctx.error.message);
  const policy = load();
  const d = new CompiledPolicy(policy).decide(opts.op, ctx.value);
  if (opts.json) printJson(decisionJson(d, opts.op));
  else process.stdout.write(terminalSafe(decisionText(d)) + '\n');
  return d.action === 'ALLOW' ? EXIT_OK : EXIT_FAIL;
}

export function registerPolicyCommands(program: Command, run: Run): void {
  const policy = program
    .command('policy')
    .description('check, format and evaluate IPE policies')
    .addHelpText('after', '\nPolicies use the IPE policy language exactly as Linux accepts it (see docs/policy.md).');

  policy
    .command('check')
    .description('validate a policy; exit 0 if valid, 1 if not, 2 on usage errors')
    .argument('<file>', 'policy file, or - for standard input')
    .option('--json', 'print one JSON object')
    .option('--kernel', 'accept exactly what the kernel accepts (the default: ward has no extra syntax)')
    .action((file: string, opts: JsonFlag & { kernel?: boolean }) => run(() => check(file, opts), opts.json));

  policy
    .command('fmt')
    .description('print the canonical form of a policy (comments kept)')
    .argument('<file>', 'policy file, or - for standard input')
    .option('-w, --write', 'rewrite the file in place (atomically)')
    .option('--check', 'exit 1 if the file is not in canonical form')
    .action((file: string, opts: { write?: boolean; check?: boolean }) => run(() => fmt(file, opts)));

  policy
    .command('eval')
    .description('decide an operation for real files, or for a described file (--context); exit 0 if all ALLOW, 1 on any DENY, 2 on errors')
    .argument('[policy]', 'policy file, or - for standard input (not with --active)')
    .argument('[paths...]', 'files to decide, with their properties read from them (shown with the decision)')
    .option('--op <op>', `operation: ${OPS.join(', ')}`, 'EXECUTE')
    .option('--context <json>', 'file properties instead of files, e.g. \'{"boot_verified":true,"fsverity_digest":"sha256:…"}\'')
    .option('--json', 'print one JSON object')
    .option('--active', "decide with the running daemon's active policy")
    .option('--socket <path>', "the daemon's control socket (with --active; default from its configuration)")
    .action((file: string | undefined, paths: string[], opts: EvalFlags) => run(() => evalCommand(file, paths, opts), opts.json));

  registerGenerateCommand(policy, run);
  registerManageCommands(policy, program, run);
}
