#!/usr/bin/env node
/**
 * Entry point of the `nestjs-client-auth` command (the package's `bin`): runs {@link run} with
 * the process's arguments and streams and exits with its code.
 */
import { processCliIo } from './cli-io.js';
import { run } from './run.js';

process.exitCode = await run(process.argv.slice(2), processCliIo());
