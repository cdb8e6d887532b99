// The global configuration, /etc/ward/node.json (the sysctl analog of the proposals):
//   { "denyCodegen": true, "moduleAutoload": { "level": 1, "allow": { … } } }
// WARD_NODE_CONFIG may name one more file, whose settings can only add to the global ones.
// A file that exists but cannot be read or parsed, or has a field ward does not know (a typo would
// silently weaken the setting it meant), is an error: refuse rather than guess.

const { existsSync, readFileSync } = process.getBuiltinModule('node:fs');
import { describeError } from '../errors.ts';
import { bool, checkObject, objectOf, parseJsonText, strList, type FieldCheck } from '../util/json.ts';
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

const anyValue: FieldCheck = () => undefined;

let cached: NodeConfig | undefined;

// The level itself is checked where it is used (./autoload.ts), with the same words as for an
// inherited setting; here it must only be present-or-absent data of the right shape.
const FIELDS = {
  denyCodegen: bool,
  moduleAutoload: objectOf({ level: anyValue, allow: objectOf({ builtins: strList, packages: strList, paths: strList }) }),
};

type ConfigDoc = { denyCodegen?: boolean; moduleAutoload?: { level?: unknown; allow?: ConfigAllow } };

/** One file, checked field by field: an unknown field (a typo) is refused, not ignored. */
function readOne(file: string): ConfigDoc {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    refuse('ERR_WARD_EPERM', `${file}: cannot read ward's Node configuration: ${describeError(e)}; fix or remove the file`);
  }
  const doc = parseJsonText(text, file);
  const r = doc.ok ? checkObject(doc.value, FIELDS, file, '{"denyCodegen": true}') : doc;
  if (!r.ok) refuse('ERR_WARD_EPERM', `${r.error.message}; fix or remove the file`);
  return r.value as ConfigDoc;
}

export function nodeConfig(): NodeConfig {
  if (cached) return cached;
  const c: NodeConfig = { denyCodegen: false };
  for (const file of [GLOBAL_CONFIG, process.env[ENV.config]]) {
    if (!file || !existsSync(file)) continue;
    const doc = readOne(file);
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
