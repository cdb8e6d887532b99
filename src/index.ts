export * from './policy/index.ts';
export { WardError, ERRNO, type Result } from './errors.ts';
