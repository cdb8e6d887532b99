export { spawnSandboxed, restrictCurrentProcess, prepareSandbox, execSandboxed, type PreparedSandbox } from './launcher.ts';
export { negotiate, explainPlan, type SandboxRequest, type SandboxPlan, type Compat, type EnforcementStatus, type PathRule } from './negotiate.ts';
export { validateProfile, parseProfileText, mergeProfiles, profileToRequest, type SandboxProfile } from './profile.ts';
export { ACCESS_GROUPS, FS_RIGHTS, NET_RIGHTS, SCOPES, BASELINE_ABI, KNOWN_ABI, type AccessGroup } from './rights.ts';
