/** The admin console (SPEC S3): a page for operators over the admin REST API. */
export { AdminConsoleController } from './admin-console.controller.js';
export { AdminConsoleModule } from './admin-console.module.js';
export { ADMIN_CONSOLE_OPTIONS } from './admin-console.options.js';
export type { AdminConsoleOptions } from './admin-console.options.js';
export {
  CONSOLE_ASSET_TYPES,
  CONSOLE_CONTENT_SECURITY_POLICY,
  findConsoleAssets,
} from './console-assets.js';
