import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { ResourceServerModuleOptions } from './resource-server.options.js';

/** Extra options of `forRoot` / `forRootAsync` that shape the module rather than configure it. */
export interface ResourceServerModuleExtras {
  /** Register the module globally. Default false. */
  isGlobal?: boolean;
}

export const {
  ConfigurableModuleClass: ResourceServerConfigurableModule,
  /** Injection token of the resolved {@link ResourceServerModuleOptions}. */
  MODULE_OPTIONS_TOKEN: RESOURCE_SERVER_OPTIONS,
  OPTIONS_TYPE: RESOURCE_SERVER_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: RESOURCE_SERVER_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ResourceServerModuleOptions>({ moduleName: 'ResourceServer' })
  .setClassMethodName('forRoot')
  .setExtras<ResourceServerModuleExtras>({ isGlobal: false }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();
