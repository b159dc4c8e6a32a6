// One jest run for the whole workspace. Tests import sibling packages from source (moduleNameMapper),
// so `jest` needs no prior build; the CLI tests that spawn the binary need `pnpm build` first
// (scripts/test.sh does that).
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages', '<rootDir>/examples', '<rootDir>/test'],
  testMatch: ['**/test/**/*.test.ts'],
  transform: { '^.+\\.(t|j|mj)s$': swc },
  // jose is ESM-only; the OTLP exporter loads node:http with a dynamic import(), which jest's vm
  // refuses without --experimental-vm-modules: swc turns both into require().
  transformIgnorePatterns: ['/node_modules/(?!(\\.pnpm/jose@[^/]+/node_modules/)?jose/|(\\.pnpm/@opentelemetry\\+otlp-exporter-base@[^/]+/node_modules/)?@opentelemetry/otlp-exporter-base/)'],
  moduleNameMapper: {
    '^@querygate/(core|services|protocol-postgres|protocol-mysql|plugin-masking|plugin-approval|plugin-audit-kafka|gateway)$':
      '<rootDir>/packages/$1/src/index.ts',
    '^querygate-plugin-bounded-select$': '<rootDir>/examples/custom-plugin/src/index.ts',
  },
  setupFiles: ['reflect-metadata'],
  globalSetup: '<rootDir>/test/globalSetup.ts',
  globalTeardown: '<rootDir>/test/globalTeardown.ts',
  testTimeout: 60000,
  maxWorkers: 2,
  modulePathIgnorePatterns: ['<rootDir>/.*/dist/'],
};
