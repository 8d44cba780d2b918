import {
  Controller,
  Get,
  Inject,
  Optional,
  Query,
  Res,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { HttpReplyLike } from '../nest/http-platform.js';
import { OAuthError } from '../core/errors.js';
import { TOKEN_ENDPOINT_AUTH_METHODS, type TokenEndpointAuthMethod } from '../core/types.js';
import { OAuthEndpointExceptionFilter } from '../nest/oauth-exception.filter.js';
import { ClientAuthMetrics } from '../ops/metrics/client-auth-metrics.js';
import {
  ClientRegistryService,
  audienceReadiness,
} from '../persistence/client-registry.service.js';
import { AdminAccessGuard } from './admin.guard.js';
import {
  CLIENT_REGISTRY_API_OPTIONS,
  type ClientRegistryApiOptions,
} from './client-registry-api.options.js';
import { credentialState } from './presenters.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Clients read for the overview, 100 a page; beyond this the overview says `truncated`. */
const MAX_OVERVIEW_CLIENTS = 10_000;
/** Failure rows read for the hourly chart, 500 a page; beyond this the answer says `truncated`. */
const MAX_FAILURE_ROWS = 10_000;

/** One credential that stops being valid within the overview's window. */
export interface ExpiringCredentialView {
  readonly client_id: string;
  readonly credential_id: string;
  readonly kind: string;
  readonly kid: string | null;
  readonly expires_at: string;
}

/** `GET /admin/stats/overview`: the registry at a glance (SPEC S3, S2.8). */
export interface AdminOverviewView {
  readonly generated_at: string;
  readonly total_clients: number;
  readonly enabled_clients: number;
  readonly disabled_clients: number;
  /** Every registrable method, zero included. */
  readonly clients_by_method: Readonly<Record<TokenEndpointAuthMethod, number>>;
  readonly expiring_within_days: number;
  /** Active credentials whose `expires_at` falls within the window, soonest first. */
  readonly expiring_credentials: readonly ExpiringCredentialView[];
  /** Audience readiness (SPEC S2.8) counted over the assertion clients. */
  readonly strict_readiness: {
    readonly passing: number;
    readonly failing: number;
    readonly unknown: number;
    readonly not_applicable: number;
  };
  /** More clients exist than the overview reads; the counts cover the newest ones. */
  readonly truncated: boolean;
}

/** One hour of failures, by reason code (SPEC S2.9). */
export interface FailureHourView {
  /** Start of the hour (RFC 3339). */
  readonly hour: string;
  readonly total: number;
  readonly by_reason: Readonly<Record<string, number>>;
}

/** `GET /admin/stats/authentications`: outcomes by reason over the last hours. */
export interface AuthenticationStatsView {
  readonly hours: number;
  readonly since: string;
  readonly until: string;
  /** Failures recorded per client (the `oauth_auth_failure` table), oldest hour first. */
  readonly failures: readonly FailureHourView[];
  readonly failure_totals: Readonly<Record<string, number>>;
  /**
   * Totals from this process's Prometheus counters since it started (not per hour, not
   * shared between instances); `null` when metrics are not enabled.
   */
  readonly process_totals: {
    readonly success: number;
    readonly failure: number;
    readonly unavailable: number;
    readonly failure_by_reason: Readonly<Record<string, number>>;
  } | null;
  /** More failure rows exist than were read; the oldest hours are undercounted. */
  readonly truncated: boolean;
}

/**
 * Aggregates for operators and the admin console (SPEC S3): the registry overview and
 * authentication failures by reason per hour. Guarded like the rest of the admin API; reads
 * only through {@link ClientRegistryService} (and the metrics, when present); never returns a
 * secret or key material.
 */
@ApiTags('admin: registry')
@ApiBearerAuth('admin-token')
@Controller('admin/stats')
@UseGuards(AdminAccessGuard)
@UseFilters(OAuthEndpointExceptionFilter)
export class AdminStatsController {
  constructor(
    private readonly registry: ClientRegistryService,
    @Inject(CLIENT_REGISTRY_API_OPTIONS) private readonly options: ClientRegistryApiOptions,
    @Optional() private readonly metrics?: ClientAuthMetrics,
  ) {}

  @Get('overview')
  @ApiOperation({
    summary:
      'Clients by method, credentials expiring within `days` (default 30), strict-audience readiness',
  })
  @ApiQuery({ name: 'days', required: false, type: 'integer', description: '1..365, default 30' })
  @ApiOkResponse({ description: 'The overview' })
  async overview(
    @Res({ passthrough: true }) res: HttpReplyLike,
    @Query('days') daysParam?: unknown,
  ): Promise<AdminOverviewView> {
    res.header('Cache-Control', 'no-store');
    const days = integerParam(daysParam, 'days', 30, 1, 365);
    const now = new Date();
    const horizon = new Date(now.getTime() + days * DAY_MS);
    const policy = this.options.audiencePolicy ?? 'compat';
    const byMethod = Object.fromEntries(TOKEN_ENDPOINT_AUTH_METHODS.map((m) => [m, 0])) as Record<
      TokenEndpointAuthMethod,
      number
    >;
    const readiness = { passing: 0, failing: 0, unknown: 0, not_applicable: 0 };
    const expiring: ExpiringCredentialView[] = [];
    let enabled = 0;
    let seen = 0;
    let total = 0;
    for (let offset = 0; offset < MAX_OVERVIEW_CLIENTS; offset += 100) {
      const page = await this.registry.listClients({ limit: 100, offset });
      total = page.total;
      for (const client of page.items) {
        seen += 1;
        byMethod[client.tokenEndpointAuthMethod] += 1;
        if (client.enabled) enabled += 1;
        const ready = audienceReadiness(client, policy);
        const usesAssertion =
          client.tokenEndpointAuthMethod === 'private_key_jwt' ||
          client.tokenEndpointAuthMethod === 'client_secret_jwt';
        if (!usesAssertion) readiness.not_applicable += 1;
        else if (ready.passesStrict === true) readiness.passing += 1;
        else if (ready.passesStrict === false) readiness.failing += 1;
        else readiness.unknown += 1;
        for (const credential of client.credentials) {
          const state = credentialState(credential, now);
          if (state !== 'expiring' || credential.expiresAt === undefined) continue;
          if (credential.expiresAt > horizon) continue;
          expiring.push({
            client_id: client.clientId,
            credential_id: credential.id,
            kind: credential.kind,
            kid: credential.kid ?? null,
            expires_at: credential.expiresAt.toISOString(),
          });
        }
      }
      if (page.items.length < 100 || offset + 100 >= page.total) break;
    }
    expiring.sort((a, b) => a.expires_at.localeCompare(b.expires_at));
    return {
      generated_at: now.toISOString(),
      total_clients: total,
      enabled_clients: enabled,
      disabled_clients: seen - enabled,
      clients_by_method: byMethod,
      expiring_within_days: days,
      expiring_credentials: expiring,
      strict_readiness: readiness,
      truncated: seen < total,
    };
  }

  @Get('authentications')
  @ApiOperation({
    summary: 'Authentication failures by reason per hour over the last `hours` (default 24)',
  })
  @ApiQuery({ name: 'hours', required: false, type: 'integer', description: '1..168, default 24' })
  @ApiOkResponse({ description: 'Failures per hour by reason, and process totals from metrics' })
  async authentications(
    @Res({ passthrough: true }) res: HttpReplyLike,
    @Query('hours') hoursParam?: unknown,
  ): Promise<AuthenticationStatsView> {
    res.header('Cache-Control', 'no-store');
    const hours = integerParam(hoursParam, 'hours', 24, 1, 168);
    const until = new Date();
    // Whole hours: the current (partial) hour is the last bucket.
    const firstHour = Math.floor(until.getTime() / HOUR_MS) * HOUR_MS - (hours - 1) * HOUR_MS;
    const buckets = Array.from({ length: hours }, (_, i) => ({
      start: firstHour + i * HOUR_MS,
      total: 0,
      byReason: new Map<string, number>(),
    }));
    const totals = new Map<string, number>();
    let before: Date | undefined;
    let read = 0;
    let truncated = false;
    for (;;) {
      const rows = await this.registry.listFailures({ limit: 500, ...(before && { before }) });
      let reachedStart = rows.length < 500;
      for (const row of rows) {
        const at = row.at.getTime();
        if (at < firstHour) {
          reachedStart = true;
          break;
        }
        const bucket = buckets[Math.floor((at - firstHour) / HOUR_MS)];
        if (!bucket) continue;
        bucket.total += 1;
        bucket.byReason.set(row.reason, (bucket.byReason.get(row.reason) ?? 0) + 1);
        totals.set(row.reason, (totals.get(row.reason) ?? 0) + 1);
      }
      read += rows.length;
      if (reachedStart) break;
      if (read >= MAX_FAILURE_ROWS) {
        truncated = true;
        break;
      }
      // Rows sharing the oldest timestamp of this page may be skipped by `before`; at 500 rows
      // a page that loses at most a few rows of one millisecond, acceptable for a chart.
      before = rows[rows.length - 1]!.at;
    }
    return {
      hours,
      since: new Date(firstHour).toISOString(),
      until: until.toISOString(),
      failures: buckets.map((bucket) => ({
        hour: new Date(bucket.start).toISOString(),
        total: bucket.total,
        by_reason: Object.fromEntries(bucket.byReason),
      })),
      failure_totals: Object.fromEntries(totals),
      process_totals: await this.#processTotals(),
      truncated,
    };
  }

  async #processTotals(): Promise<AuthenticationStatsView['process_totals']> {
    if (!this.metrics) return null;
    const metrics = await this.metrics.registry.getMetricsAsJSON();
    const counter = metrics.find((metric) => metric.name.endsWith('authentications_total'));
    const result = { success: 0, failure: 0, unavailable: 0 };
    const byReason: Record<string, number> = {};
    for (const value of (counter?.values ?? []) as {
      value: number;
      labels: Record<string, string | number>;
    }[]) {
      const outcome = String(value.labels.outcome ?? '');
      if (outcome === 'success' || outcome === 'failure' || outcome === 'unavailable') {
        result[outcome] += value.value;
      }
      if (outcome === 'failure') {
        const reason = String(value.labels.reason ?? 'unknown');
        byReason[reason] = (byReason[reason] ?? 0) + value.value;
      }
    }
    return { ...result, failure_by_reason: byReason };
  }
}

/** A query integer within bounds, or `invalid_request` naming the parameter. */
function integerParam(
  value: unknown,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined || value === '') return fallback;
  if (typeof value !== 'string' || !/^\d{1,6}$/.test(value)) {
    throw new OAuthError('invalid_request', `${name}: must be an integer from ${min} to ${max}`);
  }
  const parsed = Number(value);
  if (parsed < min || parsed > max) {
    throw new OAuthError('invalid_request', `${name}: must be an integer from ${min} to ${max}`);
  }
  return parsed;
}
