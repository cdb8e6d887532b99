export * from './fsverity.ts';
export * from './identity.ts';
export * from './cache.ts';
export * from './providers.ts';
export * from './context.ts';
