// `node --require ward/node/preload` (what `ward node` does): the enlightened runtime. Loaded
// before any application code; installs the checks for files of code, closes the doors for code
// from nowhere, and applies the module autoload restriction. No top-level await: it must be
// loadable with --require.

import { isMainThread } from 'node:worker_threads';
import { entryLoaded, inheritFromEnv, loadGlobalDefault, restrictModuleLoading, type AutoloadLevel } from './autoload.ts';
import { checkEntry, closeDoors } from './doors.ts';
import { WardNodeError } from './errors.ts';
import { installHooks } from './hooks.ts';
import { enforcement } from './state.ts';

function fatal(e: unknown): never {
  const err = e as WardNodeError;
  process.stderr.write(`ward node: ${err.code ?? 'ERR'}: ${err.message}\n`);
  process.exit(126);
}

try {
  enforcement();
  loadGlobalDefault();
  inheritFromEnv();
  const atEntry = process.env.WARD_NODE_AUTOLOAD_AT_ENTRY;
  if (atEntry !== undefined && isMainThread) {
    // `ward node --module-autoload=N`: applies once the entry module has been evaluated.
    delete process.env.WARD_NODE_AUTOLOAD_AT_ENTRY;
    restrictModuleLoading(Number(atEntry) as AutoloadLevel, { lock: 'entry' });
  }
  closeDoors();
  if (isMainThread && enforcement().denyInteractive) checkEntry();
  installHooks({ onEntryLoaded: entryLoaded });
} catch (e) {
  fatal(e);
}
