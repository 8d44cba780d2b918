/** Jest 30 in native ESM mode (see ../shared/STACK.md): run through `npm test`. */
const swc = [
  '@swc/jest',
  {
    jsc: {
      target: 'es2022',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      keepClassNames: true,
    },
    module: { type: 'es6' },
  },
];

const common = {
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    '^nestjs-client-auth$': '<rootDir>/libs/client-auth/src/index.ts',
    '^nestjs-client-auth/core$': '<rootDir>/libs/client-auth/src/core/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // @fastify/static (Swagger UI's assets on Fastify) require()s content-disposition 3, which is
    // ESM-only: Node 20.19+ loads it, Jest 30 on Node 20 cannot. Version 2 (CommonJS) has the
    // same `create` export.
    '^content-disposition$': '<rootDir>/node_modules/content-disposition/dist/index.js',
  },
  // TypeScript first: a stray compiled `.js` beside a source file must never shadow it.
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json', 'node'],
  testEnvironment: 'node',
};

export default {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/src/**/*.spec.ts'],
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
    },
  ],
};
