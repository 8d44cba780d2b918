import { Controller, Get, UseGuards } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { expect, it } from '@jest/globals';
import { AccessTokenGuard, ClientAuthModule, ResourceServerModule } from 'nestjs-client-auth';
import request from 'supertest';

@Controller()
class C {
  @Get('x') @UseGuards(AccessTokenGuard) x() { return {}; }
}
for (const order of ['rs-first', 'ca-first']) {
  it(order, async () => {
    const rs = ResourceServerModule.forRoot({ issuer: 'https://i', audience: 'a', jwks: { keys: [] } });
    const ca = ClientAuthModule.forRoot({ issuer: 'https://i', clients: [] });
    const m = await Test.createTestingModule({ imports: order === 'rs-first' ? [rs, ca] : [ca, rs], controllers: [C] }).compile();
    const app = m.createNestApplication({ logger: false });
    await app.init();
    const res = await request(app.getHttpServer()).get('/x').set('Authorization', 'Bearer abc.def.ghi');
    console.warn(order, res.status, res.headers['www-authenticate'], res.text);
    await app.close();
  });
}
