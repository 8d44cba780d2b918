/**
 * Starts the outgoing-client example against a running reference server (`npm start`), or any
 * authorization server and protected API, configured by environment variables (see config.ts
 * and docs/outgoing.md). By default `GET /report` calls the reference server's
 * `GET /api/reports`, which needs a token with the `reports:read` scope.
 */
import { OutgoingAuthError } from 'nestjs-client-auth';
import { createOutgoingExampleApp } from './app.module.js';
import { ExampleConfigError, loadExampleConfig } from './config.js';

try {
  const config = loadExampleConfig();
  const app = await createOutgoingExampleApp(config);
  await app.listen(config.port);
  console.warn(
    `outgoing-client example on http://localhost:${config.port}/report → ${config.targetUrl}`,
  );
} catch (error) {
  // Configuration problems (a variable, an unreadable key file) are reported by their message.
  const known = error instanceof ExampleConfigError || error instanceof OutgoingAuthError;
  console.error(known ? (error as Error).message : error);
  process.exit(1);
}
