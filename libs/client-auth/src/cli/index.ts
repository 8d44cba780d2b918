/**
 * The `nestjs-client-auth` command-line tool, for embedding or testing it in-process: `run()`
 * takes the arguments and an output sink and resolves the exit code.
 */
export { run, CLI_COMMANDS } from './run.js';
export { CliFailure, CliUsageError, EXIT, processCliIo } from './cli-io.js';
export type { CliIo } from './cli-io.js';
export type { CliCommand, CliCommandSpec, CliOptionSpec } from './cli-args.js';
export { explainClientAssertion } from './explain/explain-assertion.js';
export type {
  AssertionExplanation,
  ExplainAssertionInput,
  ExplainedRule,
  ExplainVerdict,
  RuleStatus,
} from './explain/explain-assertion.js';
