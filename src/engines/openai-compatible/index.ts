export { OpenAICompatibleEngine, type OpenAICompatibleEngineOptions } from './engine.js';
