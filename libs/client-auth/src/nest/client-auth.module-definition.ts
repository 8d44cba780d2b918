import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { ClientAuthModuleOptions } from './client-auth.options.js';

/** Extra options of `forRoot` / `forRootAsync` that shape the module rather than configure it. */
export interface ClientAuthModuleExtras {
  /** Register the module globally. Default false. */
  isGlobal?: boolean;
}

export const {
  ConfigurableModuleClass: ClientAuthConfigurableModule,
  MODULE_OPTIONS_TOKEN: CLIENT_AUTH_OPTIONS,
  OPTIONS_TYPE: CLIENT_AUTH_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: CLIENT_AUTH_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ClientAuthModuleOptions>({ moduleName: 'ClientAuth' })
  .setClassMethodName('forRoot')
  .setExtras<ClientAuthModuleExtras>({ isGlobal: false }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();
