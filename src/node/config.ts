// The global configuration, /etc/ward/node.json (the sysctl analog of the proposals):
//   { "denyCodegen": true, "moduleAutoload": { "level": 1, "allow": { … } } }
// WARD_NODE_CONFIG may name one more file, whose settings can only add to the global ones.
// A file that exists but cannot be read or parsed is an error (refuse rather than guess).

const { existsSync, readFileSync } = process.getBuiltinModule('node:fs');
import { refuse } from './errors.ts';
import { ENV } from './launch.ts';

export const GLOBAL_CONFIG = '/etc/ward/node.json';

export interface ConfigAllow {
  builtins?: string[];
  packages?: string[];
  paths?: string[];
}

export interface NodeConfig {
  denyCodegen: boolean;
  moduleAutoload?: { level: unknown; allow?: ConfigAllow; file: string };
}

let cached: NodeConfig | undefined;

function readOne(file: string): { denyCodegen?: unknown; moduleAutoload?: { level?: unknown; allow?: ConfigAllow } } {
  try {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('not a JSON object');
    return doc as { denyCodegen?: unknown };
  } catch (e) {
    refuse('ERR_WARD_EPERM', `${file}: cannot read ward's Node configuration: ${(e as Error).message}; fix or remove the file`);
  }
}

export function nodeConfig(): NodeConfig {
  if (cached) return cached;
  const c: NodeConfig = { denyCodegen: false };
  for (const file of [GLOBAL_CONFIG, process.env[ENV.config]]) {
    if (!file || !existsSync(file)) continue;
    const doc = readOne(file);
    if (doc.denyCodegen !== undefined && typeof doc.denyCodegen !== 'boolean') {
      refuse('ERR_WARD_EPERM', `${file}: "denyCodegen" must be true or false, got ${JSON.stringify(doc.denyCodegen)}`);
    }
    if (doc.denyCodegen === true) c.denyCodegen = true;
    if (doc.moduleAutoload) {
      const prev = c.moduleAutoload;
      const level = doc.moduleAutoload.level;
      if (!prev || (typeof level === 'number' && typeof prev.level === 'number' && level > prev.level)) c.moduleAutoload = { level, allow: doc.moduleAutoload.allow, file };
    }
  }
  cached = c;
  return c;
}
