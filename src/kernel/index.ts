export * from './errors.ts';
export * from './exec-check.ts';
export * from './securebits.ts';
export * from './files.ts';
export { SYS } from './ffi.ts';
export * from './process.ts';
export * from './landlock.ts';
export * from './fanotify.ts';
export * from './lsm.ts';
