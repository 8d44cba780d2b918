import { Inject } from '@nestjs/common';

/** Injection token of the validated `AppConfig`. */
export const APP_CONFIG = Symbol('AppConfig');

/** Injects the validated `AppConfig`. */
export const InjectAppConfig = (): ParameterDecorator => Inject(APP_CONFIG);
