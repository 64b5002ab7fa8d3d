/** Two projects: `unit` (pure + mocks, no root needed) and `lab` (real hosts in network namespaces, needs root). */
const tsJest = ["ts-jest", { tsconfig: "tsconfig.json" }];

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      displayName: "unit",
      testEnvironment: "node",
      transform: { "^.+\\.ts$": tsJest },
      testMatch: ["<rootDir>/test/unit/**/*.test.ts"],
      globalSetup: "<rootDir>/test/helpers/unitGlobalSetup.ts",
      globalTeardown: "<rootDir>/test/helpers/unitGlobalTeardown.ts",
    },
    {
      displayName: "lab",
      testEnvironment: "node",
      transform: { "^.+\\.ts$": tsJest },
      testMatch: ["<rootDir>/test/lab/**/*.test.ts"],
      globalSetup: "<rootDir>/test/lab/globalSetup.ts",
    },
  ],
};
