import { getLlama, LlamaLogLevel, type Llama } from 'node-llama-cpp';

export type GpuSetting = 'auto' | false;

const runtimes = new Map<string, Promise<Llama>>();

/**
 * One llama.cpp runtime per process and GPU setting: loading the native binding twice
 * wastes memory and its log hook is global. `build: 'never'` because the prebuilt binaries
 * ship inside npm packages; compiling at run time would need a toolchain and the network.
 */
export function llamaRuntime(gpu: GpuSetting): Promise<Llama> {
  const key = String(gpu);
  let runtime = runtimes.get(key);
  if (!runtime) {
    runtime = getLlama({ gpu, build: 'never', logLevel: LlamaLogLevel.error, progressLogs: false });
    runtimes.set(key, runtime);
  }
  return runtime;
}
