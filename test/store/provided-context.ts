/**
 * What test/global-setup.ts may provide to test files (see providePostgres/provideRedis in
 * test/support). Optional: without them, a test file starts its own server.
 */
declare module 'vitest' {
  export interface ProvidedContext {
    skylarkPostgresUrl?: string;
    skylarkRedisUrl?: string;
  }
}

export {};
