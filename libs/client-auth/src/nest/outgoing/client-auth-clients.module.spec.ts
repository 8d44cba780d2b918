import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { HttpService } from '@nestjs/axios';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { decodeJwt } from 'jose';
import { firstValueFrom } from 'rxjs';
import { fixtureKey } from '../../../../../test/fixtures/keys/index.js';
import {
  sendJson,
  startLoopbackServer,
  type LoopbackServer,
} from '../../../../../test/utils/loopback-http.js';
import { TokenClient } from '../../core/token-client/token-client.js';
import { ClientAssertionSignerService } from './client-assertion-signer.service.js';
import { ClientAuthClientsModule } from './client-auth-clients.module.js';
import { ClientAuthHttpModule } from './client-auth-http.module.js';
import { getTokenClientToken, InjectTokenClient } from './token-client.decorators.js';
import { TokenClientRegistry } from './token-client.registry.js';

describe('ClientAuthClientsModule', () => {
  let authServer: LoopbackServer;
  let api: LoopbackServer;
  let issued: number;
  let accepted: Set<string>;

  beforeAll(async () => {
    authServer = await startLoopbackServer((req, res) => {
      if (req.url === '/.well-known/oauth-authorization-server') {
        return sendJson(res, 200, {
          issuer: authServer.url,
          token_endpoint: `${authServer.url}/token`,
        });
      }
      sendJson(res, 200, {
        // Basic-authenticated requests carry no client_id in the body.
        access_token: `${req.form.get('client_id') ?? 'basic'}-${++issued}`,
        token_type: 'Bearer',
        expires_in: 600,
      });
    });
    api = await startLoopbackServer((req, res) => {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (!token || !accepted.has(token)) return sendJson(res, 401, { error: 'invalid_token' });
      sendJson(res, 200, { token, body: req.body });
    });
  });
  afterAll(async () => {
    await authServer.close();
    await api.close();
  });
  beforeEach(() => {
    issued = 0;
    authServer.requests.length = 0;
    api.requests.length = 0;
    accepted = new Set(['billing-1', 'billing-2', 'reports-1']);
  });

  const clients = () => ({
    billing: {
      clientId: 'billing',
      issuer: authServer.url,
      signingKey: { jwk: fixtureKey('ES256').privateJwk },
    },
    reports: { clientId: 'reports', issuer: authServer.url, clientSecret: 'reports-secret' },
  });

  @Injectable()
  class Consumer {
    constructor(
      @InjectTokenClient('billing') readonly billing: TokenClient,
      @InjectTokenClient('reports') readonly reports: TokenClient,
    ) {}
  }

  it('forRoot registers each client under its name', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [ClientAuthClientsModule.forRoot({ clients: clients() })],
      providers: [Consumer],
    }).compile();
    const consumer = moduleRef.get(Consumer);
    expect(consumer.billing).toBeInstanceOf(TokenClient);
    expect(consumer.billing.authMethod).toBe('private_key_jwt');
    expect(consumer.reports.authMethod).toBe('client_secret_basic');
    expect(moduleRef.get(getTokenClientToken('billing'))).toBe(consumer.billing);
    expect(moduleRef.get(TokenClientRegistry).names()).toEqual(['billing', 'reports']);
    expect((await consumer.billing.getToken()).accessToken).toBe('billing-1');
    expect((await consumer.reports.getToken()).accessToken).toBe('basic-2');
    await moduleRef.close();
  });

  it('forRootAsync builds the clients from injected configuration', async () => {
    @Module({
      providers: [{ provide: 'CONFIG', useValue: { issuer: authServer.url } }],
      exports: ['CONFIG'],
    })
    class ConfigModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [
        ClientAuthClientsModule.forRootAsync({
          imports: [ConfigModule],
          inject: ['CONFIG'],
          clientNames: ['billing', 'reports'],
          useFactory: (config: { issuer: string }) => ({
            clients: {
              billing: {
                clientId: 'billing',
                issuer: config.issuer,
                signingKey: { jwk: fixtureKey('ES256').privateJwk },
              },
              reports: { clientId: 'reports', issuer: config.issuer, clientSecret: 's' },
            },
          }),
        }),
      ],
      providers: [Consumer],
    }).compile();
    expect(moduleRef.get(Consumer).billing.clientId).toBe('billing');
    await moduleRef.close();
  });

  it('ClientAssertionSignerService signs for a named client', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [ClientAuthClientsModule.forRoot({ clients: clients() })],
    }).compile();
    const signer = moduleRef.get(ClientAssertionSignerService);
    const assertion = await signer.createAssertion('billing');
    expect(decodeJwt(assertion)).toMatchObject({
      iss: 'billing',
      sub: 'billing',
      aud: authServer.url,
    });
    await expect(signer.createAssertion('reports')).rejects.toThrow(/client_secret_basic/);
    await expect(signer.createAssertion('nobody')).rejects.toThrow(
      /no token client named "nobody"/,
    );
    await moduleRef.close();
  });

  it('a misconfigured client stops the application at start-up, naming the client', async () => {
    const broken = {
      ...clients(),
      reports: {
        clientId: 'reports',
        issuer: authServer.url,
        clientSecret: 's',
        signingKey: { secret: 'x'.repeat(32) },
      },
    };
    await expect(
      Test.createTestingModule({
        imports: [ClientAuthClientsModule.forRoot({ clients: broken })],
      }).compile(),
    ).rejects.toThrow(/token client "reports": .*one credential/);
  });

  it('isGlobal makes the registry visible everywhere', async () => {
    @Injectable()
    class Deep {
      constructor(readonly registry: TokenClientRegistry) {}
    }
    @Module({ providers: [Deep], exports: [Deep] })
    class Feature {}
    const moduleRef = await Test.createTestingModule({
      imports: [ClientAuthClientsModule.forRoot({ clients: clients(), isGlobal: true }), Feature],
    }).compile();
    expect(moduleRef.get(Deep).registry.has('billing')).toBe(true);
    await moduleRef.close();
  });

  describe('ClientAuthHttpModule (@nestjs/axios)', () => {
    @Injectable()
    class BillingApi {
      constructor(readonly http: HttpService) {}
    }

    const compile = async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [
          ClientAuthClientsModule.forRoot({ clients: clients(), isGlobal: true }),
          ClientAuthHttpModule.register({
            client: 'billing',
            http: { baseURL: api.url },
            token: { scope: 'invoices' },
          }),
        ],
        providers: [BillingApi],
      }).compile();
      await moduleRef.init();
      return moduleRef;
    };

    it("attaches the named client's token to HttpService requests", async () => {
      const moduleRef = await compile();
      const http = moduleRef.get(BillingApi).http;
      const response = await firstValueFrom(http.get('/invoices'));
      expect(response.data).toEqual({ token: 'billing-1', body: '' });
      await firstValueFrom(http.get('/invoices'));
      expect(authServer.requests.filter((r) => r.url === '/token')).toHaveLength(1);
      expect(authServer.requests.find((r) => r.url === '/token')!.form.get('scope')).toBe(
        'invoices',
      );
      await moduleRef.close();
    });

    it('on 401 drops the token and retries once with a new one, body included', async () => {
      const moduleRef = await compile();
      const http = moduleRef.get(BillingApi).http;
      await firstValueFrom(http.get('/warm'));
      accepted.delete('billing-1');
      const response = await firstValueFrom(http.post('/invoices', { amount: 5 }));
      expect(response.data).toEqual({ token: 'billing-2', body: '{"amount":5}' });
      expect(api.requests.slice(1).map((r) => [r.headers.authorization, r.body])).toEqual([
        ['Bearer billing-1', '{"amount":5}'],
        ['Bearer billing-2', '{"amount":5}'],
      ]);
      await moduleRef.close();
    });

    it('gives up after one retry and surfaces the 401', async () => {
      const moduleRef = await compile();
      accepted = new Set();
      const error = await firstValueFrom(moduleRef.get(BillingApi).http.get('/x')).catch(
        (e: unknown) => e,
      );
      expect((error as { response: { status: number } }).response.status).toBe(401);
      expect(api.requests).toHaveLength(2);
      await moduleRef.close();
    });

    it('also retries a 401 that validateStatus lets through', async () => {
      const moduleRef = await compile();
      const http = moduleRef.get(BillingApi).http;
      await firstValueFrom(http.get('/warm'));
      accepted.delete('billing-1');
      const response = await firstValueFrom(http.get('/x', { validateStatus: () => true }));
      expect(response.status).toBe(200);
      expect(response.data).toMatchObject({ token: 'billing-2' });
      accepted = new Set();
      const refused = await firstValueFrom(http.get('/x', { validateStatus: () => true }));
      expect(refused.status).toBe(401);
      expect(api.requests).toHaveLength(5);
      await moduleRef.close();
    });

    it('fails at start-up for an unknown client name', async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [
          ClientAuthClientsModule.forRoot({ clients: clients(), isGlobal: true }),
          ClientAuthHttpModule.register({ client: 'nobody' }),
        ],
      }).compile();
      await expect(moduleRef.init()).rejects.toThrow(/no token client named "nobody"/);
    });
  });
});
