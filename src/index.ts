export * from './policy/index.ts';
export { WardError, ERRNO, errorCode, describeError, type ErrnoName, type Result } from './errors.ts';
