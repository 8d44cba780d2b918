import { HttpService } from '@nestjs/axios';
import { BadGatewayException, Controller, Get, Inject } from '@nestjs/common';
import { firstValueFrom } from 'rxjs';
import type { OutgoingExampleConfig } from './config.js';

/** Injection token of the example's configuration. */
export const EXAMPLE_CONFIG = Symbol('OutgoingExampleConfig');

/** Calls the protected route through the token-carrying `HttpService`. */
@Controller()
export class ReportController {
  constructor(
    private readonly http: HttpService,
    @Inject(EXAMPLE_CONFIG) private readonly config: OutgoingExampleConfig,
  ) {}

  /** Fetches the protected resource; the bearer token is attached (and refreshed) by the library. */
  @Get('report')
  async report(): Promise<{ target: string; status: number; body: unknown }> {
    try {
      const response = await firstValueFrom(this.http.get(this.config.targetUrl));
      return { target: this.config.targetUrl, status: response.status, body: response.data };
    } catch (error) {
      const status = (error as { response?: { status?: number } }).response?.status;
      throw new BadGatewayException(
        status ? `the protected API answered ${status}` : 'the protected API could not be called',
      );
    }
  }
}
