import { resolve } from 'node:path';
import type { Command } from 'commander';
import { servingStarted } from './serve-tuning.js';

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('Run the gateway (embedded defaults: the built-in tiny model, in process)')
    .option('--host <host>', 'address to listen on (default 127.0.0.1, or server.host in the config)')
    .option('--port <port>', 'port to listen on (default 8080, or server.port in the config)', parsePort)
    .option('--data <dir>', 'data directory', './data')
    .option('--config <file>', 'YAML config file (engines and models)')
    .option('--metrics-port <port>', 'serve GET /metrics without a key on this port too (or server.metricsPort)', parsePort)
    .action(async (options: { host?: string; port?: number; data: string; config?: string; metricsPort?: number }) => {
      // Loaded here, not at the top: the server pulls in Fastify and llama.cpp, which every
      // other command (tenant, key, topup…) would otherwise pay for at start-up.
      const { startPlatform } = await import('../main.js');
      let platform;
      try {
        platform = await startPlatform({
          dataDir: resolve(options.data),
          ...(options.config ? { configPath: resolve(options.config) } : {}),
          ...(options.host ? { host: options.host } : {}),
          ...(options.port !== undefined ? { port: options.port } : {}),
          ...(options.metricsPort !== undefined ? { metricsPort: options.metricsPort } : {}),
          onNewAdminKey: (key, path) => {
            process.stderr.write(
              `\nGenerated an admin API key (shown once; saved to ${path} with mode 0600):\n\n  ${key}\n\n`,
            );
          },
        });
      } catch (error) {
        if (error instanceof Error && error.name === 'ConfigError') {
          process.stderr.write(`${error.message}\n`);
          process.exit(2);
        }
        throw error;
      }
      servingStarted();
      process.stderr.write(`Skylark is listening on ${platform.url} (OpenAI base URL: ${platform.url}/v1)\n`);
      if (platform.metricsUrl) process.stderr.write(`Prometheus metrics (no key) on ${platform.metricsUrl}/metrics\n`);
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        process.stderr.write(`${signal}: finishing in-flight requests, then exiting\n`);
        platform.close().then(
          () => process.exit(0),
          (error: unknown) => {
            process.stderr.write(`shutdown failed: ${String(error)}\n`);
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    });
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0-65535, got '${value}'`);
  return port;
}
