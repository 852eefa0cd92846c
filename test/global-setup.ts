import { mkdir } from 'node:fs/promises';
import { writeTinyModel } from '../src/engines/gguf/tiny-model.js';
import { testDataDir, tinyModelPath } from './support/paths.js';

/** Generates the tiny model once per run; every test file that needs an engine loads it. */
export default async function setup(): Promise<void> {
  await mkdir(testDataDir, { recursive: true });
  await writeTinyModel(tinyModelPath);
}
