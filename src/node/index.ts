// ward/node: the API of the enlightened runtime (the preload itself is ./preload.ts).
export { restrictModuleLoading, currentLevel, type AutoloadLevel, type AutoloadAllow } from './autoload.ts';
export { enforcement, type NodeEnforcement } from './state.ts';
export { WardNodeError, type WardNodeCode } from './errors.ts';
