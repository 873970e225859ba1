// Mocha runs the TypeScript sources through tsx. `.only` fails the run on CI.
module.exports = {
  require: ["tsx/cjs"],
  spec: ["test/**/*.test.ts"],
  extension: ["ts"],
  timeout: 30000,
  exit: true,
  forbidOnly: Boolean(process.env.CI),
};
