/** Two projects: `unit` (pure + mocks, no root needed) and `lab` (real hosts in network namespaces, needs root). */
const tsJest = ["ts-jest", { tsconfig: "tsconfig.json" }];

/** @type {import('jest').Config} */
module.exports = {
  // The unit files run in workers that are recycled above 1 GB: in one process (jest's choice on
  // two cores) the whole unit project grew past 6 GB.
  workerIdleMemoryLimit: "1GB",
  // Failures are printed again at the very end (jest does so only above 20 suites): CI keeps only
  // the tail of a long run's output, and the lab suites' console logs push the failure out of it.
  reporters: [["default", { summaryThreshold: 0 }]],
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
