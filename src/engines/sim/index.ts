export { SimEngine, type SimEngineOptions } from './engine.js';
export { gpuPresets, gpuPresetNames, stepTimeMs, type GpuPresetName, type GpuProfile } from './hardware.js';
export { SimReplica, type BackgroundPrefill, type SimAbortResult, type SimCounters, type SimEvent, type SimLoad, type SimReplicaOptions } from './replica.js';
export type { SimPrefixSegment, SimRequest } from './sequence.js';
export type { SchedulingPolicy } from './waiting-queue.js';
