/**
 * The rooms of docs/architecture.md, enforced. `npm test` runs this before the tests.
 * It cruises the compiled JavaScript in dist/ (TypeScript 7's compiler has no JS API for
 * dependency-cruiser to parse .ts with), so type-only imports are not checked.
 */
// Any folder under engines/ is a concrete engine (engine.ts and registry.ts sit above them).
const concreteEngines = '^dist/src/engines/[^/]+/';

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'core-imports-nothing-of-ours',
      severity: 'error',
      from: { path: '^dist/src/core/' },
      to: { path: '^dist/src/', pathNot: '^dist/src/core/' },
    },
    {
      name: 'contracts-import-only-core',
      severity: 'error',
      from: { path: '^dist/src/contracts/' },
      to: { path: '^dist/src/', pathNot: '^dist/src/(core|contracts)/' },
    },
    {
      name: 'engines-know-no-gateway-http-or-config',
      severity: 'error',
      from: { path: '^dist/src/engines/' },
      to: { path: '^dist/src/', pathNot: '^dist/src/(core|engines)/' },
    },
    {
      name: 'scheduler-knows-no-sql-or-http',
      severity: 'error',
      from: { path: '^dist/src/scheduler/' },
      to: { path: ['^dist/src/', 'node_modules/(fastify|@fastify|kysely|pg|better-sqlite3|ioredis)/'], pathNot: '^dist/src/(core|scheduler)/|^dist/src/engines/engine\\.js$' },
    },
    {
      // Shared scheduling's Redis side is reached through SlotLeases; only the wiring builds it.
      name: 'shared-scheduling-redis-behind-its-interface',
      severity: 'error',
      from: { path: '^dist/src/', pathNot: '^dist/src/(wiring|gateway/shared-scheduling)/|\\.test\\.js$' },
      to: { path: '^dist/src/gateway/shared-scheduling/(redis-|lease-scripts)' },
    },
    {
      name: 'store-imports-only-core',
      severity: 'error',
      from: { path: '^dist/src/store/' },
      to: { path: '^dist/src/', pathNot: '^dist/src/(core|store)/' },
    },
    {
      name: 'billing-and-tenancy-sit-on-the-store',
      severity: 'error',
      from: { path: '^dist/src/(billing|tenancy)/' },
      to: { path: '^dist/src/', pathNot: '^dist/src/(core|store|billing|tenancy)/' },
    },
    {
      name: 'apps-sit-on-the-store',
      severity: 'error',
      from: { path: '^dist/src/apps/' },
      to: { path: '^dist/src/', pathNot: '^dist/src/(core|store|apps)/' },
    },
    {
      name: 'responses-sit-on-the-store',
      severity: 'error',
      from: { path: '^dist/src/responses/' },
      to: { path: '^dist/src/', pathNot: '^dist/src/(core|store|responses)/' },
    },
    {
      // Cached contexts charge their storage through billing's prices and settlements.
      name: 'contexts-sit-on-the-store-and-billing',
      severity: 'error',
      from: { path: '^dist/src/contexts/' },
      to: { path: '^dist/src/', pathNot: '^dist/src/(core|store|billing|contexts)/' },
    },
    {
      // The web app is compiled to dist/web-check by `npm run build:web` for this check only.
      name: 'web-imports-only-contracts',
      severity: 'error',
      from: { path: '^dist/web-check/web/' },
      to: { path: '^dist/web-check/src/', pathNot: '^dist/web-check/src/contracts/' },
    },
    {
      name: 'web-imports-resolve',
      severity: 'error',
      from: { path: '^dist/web-check/web/' },
      to: { couldNotResolve: true, pathNot: '\\.css$' },
    },
    {
      name: 'web-runs-in-the-browser',
      severity: 'error',
      from: { path: '^dist/web-check/web/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'web-never-imports-server-libraries',
      severity: 'error',
      from: { path: '^dist/web-check/web/' },
      to: { path: 'node_modules/(fastify|@fastify|kysely|pg|better-sqlite3|node-llama-cpp|undici|ioredis|pino|zod)/' },
    },
    {
      name: 'gateway-uses-the-engine-interface-only',
      severity: 'error',
      from: { path: '^dist/src/gateway/' },
      to: { path: [concreteEngines, '^dist/src/engines/registry', '^dist/src/(api|cli|config|wiring)/', '^dist/src/main'] },
    },
    {
      // The request path is called by the web app and the API, never the other way round.
      name: 'gateway-knows-not-its-callers',
      severity: 'error',
      from: { path: '^dist/src/gateway/' },
      to: { path: '^dist/src/(consumer|accounts)/' },
    },
    {
      name: 'accounts-sit-on-billing-and-tenancy',
      severity: 'error',
      from: { path: '^dist/src/accounts/' },
      to: { path: '^dist/src/', pathNot: '^dist/src/(core|contracts|store|billing|tenancy|accounts)/' },
    },
    {
      name: 'consumer-generates-through-the-gateway',
      severity: 'error',
      from: { path: '^dist/src/consumer/' },
      to: { path: [concreteEngines, '^dist/src/engines/registry', '^dist/src/(api|cli|config|wiring|accounts|scheduler)/', '^dist/src/main'] },
    },
    {
      // The Files and Batch APIs run their lines through the gateway's use cases, like the web app.
      name: 'batch-runs-through-the-gateway',
      severity: 'error',
      from: { path: '^dist/src/batch/' },
      to: { path: [concreteEngines, '^dist/src/engines/registry', '^dist/src/(api|cli|config|wiring|accounts|consumer|scheduler)/', '^dist/src/main'] },
    },
    {
      name: 'api-sits-on-the-gateway',
      severity: 'error',
      from: { path: '^dist/src/api/' },
      to: { path: ['^dist/src/engines/', '^dist/src/(cli|config)/', '^dist/src/main'] },
    },
    {
      name: 'config-validates-with-the-registry-only',
      severity: 'error',
      from: { path: '^dist/src/config/' },
      to: { path: ['^dist/src/(api|gateway|cli)/', '^dist/src/main', concreteEngines] },
    },
    {
      // Metrics and spans read the rest through the interfaces they are handed (types only).
      name: 'observability-sits-on-core',
      severity: 'error',
      from: { path: '^dist/src/observability/' },
      to: { path: '^dist/src/', pathNot: '^dist/src/(core|observability)/' },
    },
    {
      name: 'opentelemetry-and-prom-client-only-in-observability',
      severity: 'error',
      from: { path: '^dist/src/', pathNot: '^dist/src/observability/' },
      to: { path: 'node_modules/(@opentelemetry|prom-client)/' },
    },
    {
      name: 'src-never-imports-tests-or-benchmarks',
      severity: 'error',
      from: { path: '^dist/src/', pathNot: '\\.test\\.js$' },
      to: { path: '^dist/(test|bench)/' },
    },
    {
      name: 'fastify-only-in-api',
      severity: 'error',
      from: { path: '^dist/src/', pathNot: '^dist/src/api/' },
      to: { path: 'node_modules/(fastify|@fastify)/' },
    },
    {
      name: 'llama-cpp-only-in-its-folders',
      severity: 'error',
      from: { path: '^dist/src/', pathNot: '^dist/src/engines/(llama-cpp|gguf)/' },
      to: { path: 'node_modules/node-llama-cpp/' },
    },
    {
      name: 'undici-only-in-the-remote-engine',
      severity: 'error',
      from: { path: '^dist/src/', pathNot: '^dist/src/engines/(openai-compatible|anthropic)/' },
      to: { path: 'node_modules/undici/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
