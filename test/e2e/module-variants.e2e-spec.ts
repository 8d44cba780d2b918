import { Controller, type INestApplication, Module, Post, UseGuards } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { Test } from '@nestjs/testing';
import { afterEach, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import {
  AuthenticatedClient,
  type AuthenticatedClientInfo,
  ClientAuthGuard,
  ClientAuthModule,
  type ClientAuthModuleOptions,
  type RegisteredClient,
} from 'nestjs-client-auth';
import {
  assertionForm,
  generateTestKey,
  signAssertion,
  type TestKeyPair,
} from '../utils/assertions.js';

const ISSUER = 'https://issuer.example.test';

@Controller()
class ProbeController {
  @Post('guarded')
  @UseGuards(ClientAuthGuard)
  guarded(@AuthenticatedClient() client: AuthenticatedClientInfo) {
    return { clientId: client.clientId, method: client.method, keyId: client.keyId };
  }

  @Post('passport')
  @UseGuards(AuthGuard('oauth-client'))
  passport(@AuthenticatedClient() client: AuthenticatedClientInfo) {
    return { clientId: client.clientId, method: client.method, keyId: client.keyId };
  }
}

function clientFor(key: TestKeyPair): RegisteredClient {
  return {
    clientId: 'svc',
    enabled: true,
    tokenEndpointAuthMethod: 'private_key_jwt',
    grantTypes: ['client_credentials'],
    metadata: { client_name: 'Service' },
    credentials: [
      { id: 'cred-1', kind: 'public_key', status: 'active', kid: key.kid, jwk: key.publicJwk },
    ],
  };
}

describe.each(['forRoot', 'forRootAsync'] as const)(
  'ClientAuthModule.%s with static clients',
  (variant) => {
    let app: INestApplication | undefined;
    afterEach(async () => app?.close());

    async function start(key: TestKeyPair) {
      const options: ClientAuthModuleOptions = { issuer: ISSUER, clients: [clientFor(key)] };
      const imported =
        variant === 'forRoot'
          ? ClientAuthModule.forRoot(options)
          : ClientAuthModule.forRootAsync({ useFactory: async () => options });
      @Module({ imports: [imported], controllers: [ProbeController] })
      class ProbeModule {}
      const moduleRef = await Test.createTestingModule({ imports: [ProbeModule] }).compile();
      app = moduleRef.createNestApplication();
      await app.init();
      return app;
    }

    it.each(['guarded', 'passport'])(
      'authenticates through the %s route and yields the client',
      async (route) => {
        const key = await generateTestKey('ES256');
        const server = (await start(key)).getHttpServer();
        const jwt = await signAssertion(
          key.privateKey,
          'ES256',
          { clientId: 'svc', aud: ISSUER },
          { kid: key.kid },
        );
        const ok = await request(server).post(`/${route}`).type('form').send(assertionForm(jwt));
        expect(ok.status).toBe(201);
        expect(ok.body).toEqual({ clientId: 'svc', method: 'private_key_jwt', keyId: key.kid });

        const replay = await request(server)
          .post(`/${route}`)
          .type('form')
          .send(assertionForm(jwt));
        expect(replay.status).toBe(401);
        expect(replay.body.error).toBe('invalid_client');
        expect(replay.headers['cache-control']).toBe('no-store');
      },
    );
  },
);
