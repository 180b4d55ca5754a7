export { ConmonRuntime, type ConmonCreated, type ConmonExecOptions, type ConmonRuntimeOptions } from './runtime.ts';
export { watchExits, type WatchExitsOptions } from './exits.ts';
