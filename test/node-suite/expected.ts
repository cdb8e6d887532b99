// What the Node test slice is expected to do under `ward node`, test by test, with the reason.
// A test that plain node passes must pass under `ward node` unless it is listed here; a listed
// test must fail, and its output must match its class's pattern (a listed test that passes, or
// fails some other way, fails the suite: the list cannot rot). Recorded with
// `WARD_NODE_SUITE_RECORD=1` (see node-suite.test.ts), then each entry checked by hand.

export interface FailureClass {
  /** Why the test fails: the refusal (or limit) and what it protects, in one line. */
  reason: string;
  /** What the failing run prints (stdout + stderr tail); a failure that does not match is reported. */
  match: RegExp;
}

// --- Refusals under SECBIT_EXEC_RESTRICT_FILE + SECBIT_EXEC_DENY_INTERACTIVE (docs/node.md) -------
export const REFUSALS = {
  eval: {
    reason: 'runs node -e/-p/--eval (itself or in a child it starts): DENY_INTERACTIVE refuses code from the command line',
    match: /code given on the command line \(-e, --eval, -p, --print\) is refused/,
  },
  'worker-eval': {
    reason: 'starts a worker from a string (new Worker(code, { eval: true })): DENY_INTERACTIVE refuses code that is not a checked file',
    match: /new Worker\(code, \{ eval: true \}\) is refused/,
  },
  internals: {
    reason: 'needs --expose-internals: refused under the exec bits (Node internals reach the compilers and bindings past the checks)',
    match: /the flag --expose-internals is refused/,
  },
  inspector: {
    reason: 'uses the inspector (a worker/session Connection, --inspect, --inspect-brk): DENY_INTERACTIVE closes it',
    match: /the inspector \(\w+\) is refused|an inspector listening .* is refused|starting node with --inspect[\w-]* is refused/,
  },
  'data-url': {
    reason: 'imports a data: URL module (or loader): DENY_INTERACTIVE refuses code that never was a file',
    // A refusal caught by the test's assert.rejects may show only as ward's error code.
    match: /from a data: URL is refused|ERR_WARD_CODE_DENIED/,
  },
  'virtual-file': {
    reason: "registers a loader that supplies a module's source for a file: URL with no file behind it: RESTRICT_FILE refuses code no check could vouch for",
    match: /there is no such file, so what would run cannot be checked/,
  },
  'unchecked-file': {
    reason: 'loads a file it wrote at run time (mode 0644, in its tmpdir) or one outside the trusted tree: RESTRICT_FILE refuses a file without the execute bit',
    match: /ERR_WARD_EXEC_DENIED|may not be executed: EACCES/,
  },
  // Last: the child's own refusal is not in the test's output, only its effect.
  'refused-child': {
    reason: 'starts a child node with -e/--eval/--print, code on stdin, the REPL or a data: URL entry and checks only its status or output: the child is refused at start-up (exit 126) by DENY_INTERACTIVE',
    match: /\b126\b|!== 0|actual: ''|''\s*!==|Missing expected|did not match|\bfail [1-9]/,
  },
} satisfies Record<string, FailureClass>;

// --- Differences without enforcement: ward's documented limits and its open bugs -----------------
export const LIMITS = {
  'permission-addons': {
    reason: 'runs node --permission without --allow-addons: ward asks the kernel through its FFI (koffi), a native addon, and refuses to start in one line (limit, docs/node.md "Options ward cannot run under")',
    match: /add --allow-addons to --permission/,
  },
  'compile-cache-shim': {
    reason: "sets NODE_COMPILE_CACHE at start and counts the entries in the cache: Node caches every CommonJS file it compiles from then on, and ward's --require'd preload shim (bin/ward-node-preload.cjs) is one — one entry more than on plain node; ward's runtime is compiled outside Node's cache (limit)",
    match: /ward-node-preload\.cjs|actual: [12],\s+expected: [01],/,
  },
  'worker-execargv': {
    reason: "compares a worker's process.execArgv with what it passed: it also holds ward's --require of its preload, which is how the preload reaches worker threads (limit)",
    match: /ward-node-preload\.cjs/,
  },
} satisfies Record<string, FailureClass>;

export type RefusalName = keyof typeof REFUSALS;
export type LimitName = keyof typeof LIMITS;

/** A class, or a class and what this test's output shows of it (when the refused child's own message is not printed). */
export type Entry<N> = N | readonly [N, RegExp];

/** Tests that plain node passes and `ward node` (no enforcement) fails, by limit. */
export const UNENFORCED: Record<string, Entry<LimitName>> = {
  'test/parallel/test-compile-cache-api-permission.js': 'permission-addons',
  'test/parallel/test-compile-cache-bad-syntax.js': 'compile-cache-shim',
  'test/parallel/test-compile-cache-permission-allowed.js': 'permission-addons',
  'test/parallel/test-compile-cache-permission-disallowed.js': 'permission-addons',
  'test/parallel/test-compile-cache-success.js': 'compile-cache-shim',
  'test/parallel/test-worker-execargv.js': 'worker-execargv',
};

/** Tests that fail under -fi after `ward node trust`, by refusal (or by the limit they already hit without it). */
export const ENFORCED: Record<string, Entry<RefusalName | LimitName>> = {
  'test/es-module/test-cjs-legacyMainResolve.js': 'internals',
  'test/es-module/test-cjs-prototype-pollution.js': 'data-url',
  'test/es-module/test-esm-assertionless-json-import.js': 'data-url',
  'test/es-module/test-esm-data-urls.js': 'data-url',
  'test/es-module/test-esm-dns-promises.mjs': 'internals',
  'test/es-module/test-esm-dynamic-import-mutating-fs.js': 'unchecked-file',
  'test/es-module/test-esm-dynamic-import-mutating-fs.mjs': 'unchecked-file',
  'test/es-module/test-esm-experimental-warnings.mjs': 'eval',
  'test/es-module/test-esm-export-not-found.mjs': 'eval',
  'test/es-module/test-esm-extensionless-esm-and-wasm.mjs': 'unchecked-file',
  'test/es-module/test-esm-extension-lookup-deprecation.mjs': 'eval',
  'test/es-module/test-esm-import-assertion-warning.mjs': 'eval',
  'test/es-module/test-esm-import-attributes-errors.js': 'data-url',
  'test/es-module/test-esm-import-attributes-errors.mjs': 'data-url',
  'test/es-module/test-esm-import-attributes-validation.js': 'internals',
  'test/es-module/test-esm-import-meta-resolve.mjs': 'data-url',
  'test/es-module/test-esm-import-meta.mjs': 'data-url',
  'test/es-module/test-esm-invalid-data-urls.js': 'data-url',
  'test/es-module/test-esm-json.mjs': 'unchecked-file',
  'test/es-module/test-esm-loader-default-resolver.mjs': 'refused-child',
  'test/es-module/test-esm-loader-entry-url.mjs': 'refused-child',
  'test/es-module/test-esm-loader-invalid-format.mjs': 'virtual-file',
  'test/es-module/test-esm-loader-resolve-type.mjs': 'eval',
  'test/es-module/test-esm-loader-search.js': 'internals',
  'test/es-module/test-esm-loader-with-source.mjs': 'virtual-file',
  'test/es-module/test-esm-loader.mjs': 'unchecked-file',
  'test/es-module/test-esm-long-path-win.js': 'internals',
  // Its assert.rejects reads .url of ward's refusal of a data: import, which the test has made a mustNotCall getter.
  'test/es-module/test-esm-main-lookup.mjs': ['data-url', /get %Error\.prototype%\.url/],
  'test/es-module/test-esm-module-not-found-commonjs-hint.mjs': 'eval',
  'test/es-module/test-esm-non-js.mjs': 'eval',
  // It writes its entry and submodule into the tmpdir (0644) and checks only the children's status.
  'test/es-module/test-esm-preserve-symlinks-main.js': ['unchecked-file', /1 !== 0|actual: 1,/],
  'test/es-module/test-esm-preserve-symlinks.js': 'unchecked-file',
  'test/es-module/test-esm-prototype-pollution.mjs': 'data-url',
  'test/es-module/test-esm-repl-imports.js': 'refused-child',
  'test/es-module/test-esm-repl.js': 'refused-child',
  'test/es-module/test-esm-resolve-type.mjs': 'internals',
  'test/es-module/test-esm-symlink.js': 'unchecked-file',
  'test/es-module/test-esm-source-map.mjs': 'eval',
  'test/es-module/test-esm-undefined-cjs-global-like-variables.js': 'data-url',
  'test/es-module/test-esm-url-extname.js': 'internals',
  'test/es-module/test-esm-unknown-extension.js': 'unchecked-file',
  'test/es-module/test-esm-virtual-json.mjs': 'data-url',
  'test/es-module/test-esm-windows.js': 'unchecked-file',
  'test/es-module/test-loaders-hidden-from-users.js': 'internals',
  'test/es-module/test-require-module-feature-detect.js': 'eval',
  'test/es-module/test-require-module-with-detection.js': 'unchecked-file',
  'test/parallel/test-compile-cache-api-permission.js': 'permission-addons',
  'test/parallel/test-compile-cache-bad-syntax.js': 'compile-cache-shim',
  'test/parallel/test-compile-cache-permission-allowed.js': 'permission-addons',
  'test/parallel/test-compile-cache-permission-disallowed.js': 'permission-addons',
  // Its child runs script.js, written 0644 into the tmpdir; only the child's status is printed.
  'test/parallel/test-compile-cache-updated-file.js': ['unchecked-file', /terminated with status 1, expected 0/],
  'test/parallel/test-compile-cache-success.js': 'compile-cache-shim',
  'test/parallel/test-internal-module-require.js': 'internals',
  'test/parallel/test-internal-module-wrap.js': 'internals',
  'test/parallel/test-module-cache.js': 'unchecked-file',
  'test/parallel/test-module-circular-symlinks.js': 'unchecked-file',
  'test/parallel/test-module-main-extension-lookup.js': 'unchecked-file',
  'test/parallel/test-esm-loader-hooks-inspect-brk.js': 'inspector',
  'test/parallel/test-module-multi-extensions.js': 'unchecked-file',
  'test/parallel/test-module-print-timing.mjs': 'eval',
  'test/parallel/test-module-symlinked-peer-modules.js': 'unchecked-file',
  'test/parallel/test-preload-print-process-argv.js': 'unchecked-file',
  'test/parallel/test-preload-worker.js': 'eval',
  'test/parallel/test-require-enoent-dir.js': 'unchecked-file',
  'test/parallel/test-require-unicode.js': 'unchecked-file',
  'test/parallel/test-worker-abort-on-uncaught-exception-terminate.js': 'worker-eval',
  'test/parallel/test-worker-abort-on-uncaught-exception.js': 'worker-eval',
  'test/parallel/test-worker-beforeexit-throw-exit.js': 'worker-eval',
  'test/parallel/test-worker-broadcastchannel.js': 'worker-eval',
  'test/parallel/test-worker-crypto-sign-transfer-result.js': 'worker-eval',
  'test/parallel/test-worker-cpu-usage.js': 'worker-eval',
  'test/parallel/test-worker-dispose.mjs': 'worker-eval',
  'test/parallel/test-worker-dns-terminate.js': 'worker-eval',
  'test/parallel/test-worker-data-url.js': 'data-url',
  'test/parallel/test-worker-environmentdata.js': 'internals',
  'test/parallel/test-worker-error-stack-getter-throws.js': 'worker-eval',
  'test/parallel/test-worker-event.js': 'worker-eval',
  'test/parallel/test-worker-execargv.js': 'worker-eval',
  'test/parallel/test-worker-hasref.js': 'worker-eval',
  'test/parallel/test-worker-heap-snapshot.js': 'worker-eval',
  'test/parallel/test-worker-heapdump-failure.js': 'worker-eval',
  'test/parallel/test-worker-heap-statistics.js': 'inspector',
  'test/parallel/test-worker-internal-modules.mjs': 'worker-eval',
  'test/parallel/test-worker-message-channel-sharedarraybuffer.js': 'worker-eval',
  'test/parallel/test-worker-message-channel.js': 'worker-eval',
  'test/parallel/test-worker-message-not-serializable.js': 'internals',
  'test/parallel/test-worker-message-port-jstransferable-nested-untransferable.js': 'internals',
  'test/parallel/test-worker-message-port-transfer-native.js': 'internals',
  'test/parallel/test-worker-message-port-transfer-terminate.js': 'worker-eval',
  'test/parallel/test-worker-message-port-wasm-module.js': 'worker-eval',
  'test/parallel/test-worker-message-port-wasm-threads.js': 'worker-eval',
  'test/parallel/test-worker-messageport-hasref.js': 'worker-eval',
  'test/parallel/test-worker-message-type-unknown.js': 'internals',
  'test/parallel/test-worker-name.js': 'inspector',
  'test/parallel/test-worker-nested-on-process-exit.js': 'worker-eval',
  'test/parallel/test-worker-nested-uncaught.js': 'worker-eval',
  'test/parallel/test-worker-nexttick-terminate.js': 'worker-eval',
  'test/parallel/test-worker-node-options.js': 'worker-eval',
  'test/parallel/test-worker-on-process-exit.js': 'worker-eval',
  'test/parallel/test-worker-process-argv.js': 'worker-eval',
  'test/parallel/test-worker-process-exit-async-module.js': 'data-url',
  'test/parallel/test-worker-ref-onexit.js': 'worker-eval',
  'test/parallel/test-worker-ref.js': 'worker-eval',
  'test/parallel/test-worker-sharedarraybuffer-from-worker-thread.js': 'worker-eval',
  'test/parallel/test-worker-stack-overflow.js': 'worker-eval',
  'test/parallel/test-worker-syntax-error.js': 'worker-eval',
  'test/parallel/test-worker-terminate-microtask-loop.js': 'worker-eval',
  'test/parallel/test-worker-terminate-nested.js': 'worker-eval',
  'test/parallel/test-worker-terminate-null-handler.js': 'worker-eval',
  'test/parallel/test-worker-terminate-ref-public-port.js': 'worker-eval',
  'test/parallel/test-worker-terminate-timers.js': 'worker-eval',
  'test/parallel/test-worker-terminate-unrefed.js': 'worker-eval',
  'test/parallel/test-worker-track-unmanaged-fds.js': 'worker-eval',
  'test/parallel/test-worker-unref-from-message-during-exit.js': 'worker-eval',
  'test/parallel/test-worker-unsupported-eval-on-url.mjs': 'worker-eval',
  'test/parallel/test-worker-workerdata-messageport.js': 'worker-eval',
  'test/parallel/test-worker-workerdata-sharedarraybuffer.js': 'worker-eval',
};
