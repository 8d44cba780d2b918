/**
 * Property-based tests over hostile registration metadata (SPEC S3, S10), without HTTP: the DTO
 * pipe of the registration and admin APIs (`OAuthValidationPipe`) and the registry's domain
 * validation (`validateCreateInput`, `validateFederatedCredential`, `validatePublicJwk`) accept
 * input or refuse it with an `OAuthError` naming a field — never another error — and never echo
 * a submitted value in the description.
 */
import type { Type } from '@nestjs/common';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { OAuthError } from '../../libs/client-auth/src/core/errors.js';
import {
  AddCredentialDto,
  AdminCreateClientDto,
  AdminUpdateClientDto,
  ClientMetadataDto,
  ExpireCredentialDto,
  FederatedCredentialDto,
  IssueInitialAccessTokenDto,
  ListClientsQueryDto,
  ListQueryDto,
  RotateKeyDto,
  RotateSecretDto,
} from '../../libs/client-auth/src/http/dto/index.js';
import { toCreateClientInput } from '../../libs/client-auth/src/http/metadata-mapping.js';
import {
  adminErrorCodeFor,
  OAuthValidationPipe,
} from '../../libs/client-auth/src/http/validation/oauth-validation.pipe.js';
import {
  validateCreateInput,
  validateFederatedCredential,
  validatePublicJwk,
  type CreateClientInput,
  type FederatedCredentialInput,
} from '../../libs/client-auth/src/persistence/client-metadata-validation.js';
import { fixtureKey, type FixtureAlg } from '../fixtures/keys/index.js';
import {
  ADMIN_CLIENT_MEMBERS,
  CLIENT_METADATA_MEMBERS,
  fuzzParameters,
  fuzzTimeout,
  hostileJson,
  hostileObject,
  type JwkEdit,
  jwkEdit,
  mutatedJwks,
  nested,
  WIRE_VALUES,
  wireObject,
} from '../utils/arbitraries.js';

/** Jest timeout of one property (scaled with `FUZZ_RUNS`). */
const PROPERTY_TIMEOUT = fuzzTimeout(60_000);

const FIXTURES: FixtureAlg[] = ['RS256', 'ES256', 'ES384', 'EdDSA'];
const PUBLIC_KEYS = FIXTURES.map((alg) => fixtureKey(alg).publicJwk) as unknown as Record<
  string,
  unknown
>[];
const PRIVATE_KEYS = FIXTURES.map((alg) => fixtureKey(alg).privateJwk) as unknown as Record<
  string,
  unknown
>[];
const jwks = fc.oneof(
  mutatedJwks(PUBLIC_KEYS, PRIVATE_KEYS),
  fc.constant({ keys: PUBLIC_KEYS.slice(0, 2) }),
);
const jwk = fc.oneof(
  fc.constantFrom(...PUBLIC_KEYS),
  fc
    .tuple(fc.constantFrom(...PUBLIC_KEYS), jwkEdit(PUBLIC_KEYS, PRIVATE_KEYS))
    .map(([key, edit]) => applyEdit(key, edit)),
);

function applyEdit(key: Record<string, unknown>, edit: JwkEdit): unknown {
  if ('replaceWith' in edit) return edit.replaceWith;
  const copy: Record<string, unknown> = { ...key };
  if (edit.value === undefined) delete copy[edit.member];
  else
    Object.defineProperty(copy, edit.member, {
      value: edit.value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  return copy;
}

/** Registration and admin bodies with JWK Sets and JWKs built from the fixture keys. */
const wireBody = (members: readonly string[]) => wireObject(members, { jwks, jwk });

interface DtoCase {
  readonly dto: Type<object>;
  readonly members: readonly string[];
  readonly pipe: OAuthValidationPipe;
  readonly type: 'body' | 'query';
  /** Whether an accepted body goes on to `validateCreateInput`, as the controllers do. */
  readonly registry?: boolean;
}

const registrationPipe = new OAuthValidationPipe();
const adminPipe = new OAuthValidationPipe({ errorCodeFor: adminErrorCodeFor });
const adminOptionalPipe = new OAuthValidationPipe({
  errorCodeFor: adminErrorCodeFor,
  requireBody: false,
});

const CASES: DtoCase[] = [
  {
    dto: ClientMetadataDto,
    members: CLIENT_METADATA_MEMBERS,
    pipe: registrationPipe,
    type: 'body',
    registry: true,
  },
  {
    dto: AdminCreateClientDto,
    members: ADMIN_CLIENT_MEMBERS,
    pipe: adminPipe,
    type: 'body',
    registry: true,
  },
  {
    dto: AdminUpdateClientDto,
    members: ADMIN_CLIENT_MEMBERS,
    pipe: adminPipe,
    type: 'body',
    registry: true,
  },
  {
    dto: AddCredentialDto,
    members: ['jwk', 'not_before', 'expires_at'],
    pipe: adminPipe,
    type: 'body',
  },
  { dto: RotateKeyDto, members: ['jwk', 'overlap_seconds'], pipe: adminPipe, type: 'body' },
  { dto: RotateSecretDto, members: ['overlap_seconds'], pipe: adminOptionalPipe, type: 'body' },
  { dto: ExpireCredentialDto, members: ['at'], pipe: adminOptionalPipe, type: 'body' },
  {
    dto: IssueInitialAccessTokenDto,
    members: ['expires_in', 'max_uses', 'description'],
    pipe: adminOptionalPipe,
    type: 'body',
  },
  {
    dto: FederatedCredentialDto,
    members: [
      'issuer',
      'subject',
      'audience',
      'jwks_uri',
      'jwks',
      'required_claims',
      'max_lifetime',
      'replay',
      'name',
      'not_before',
      'expires_at',
    ],
    pipe: adminPipe,
    type: 'body',
  },
  {
    dto: ListClientsQueryDto,
    members: ['limit', 'offset', 'name', 'method', 'status'],
    pipe: adminPipe,
    type: 'query',
  },
  { dto: ListQueryDto, members: ['limit', 'client_id', 'before'], pipe: adminPipe, type: 'query' },
];

/** Error codes the registry's validation may answer with (RFC 7591 §3.2.2, RFC 6749 §5.2). */
const VALIDATION_ERRORS = [
  'invalid_client_metadata',
  'invalid_redirect_uri',
  'invalid_software_statement',
  'invalid_request',
];

/** Long, unusual strings submitted in `value` (anything shorter may match a field's name). */
function submittedStrings(value: unknown): string[] {
  const found: string[] = [];
  const pending: unknown[] = [value];
  while (pending.length > 0 && found.length < 50) {
    const current = pending.pop();
    if (typeof current === 'string') {
      if (current.length >= 16 && /[^A-Za-z0-9_ ,.:/-]/.test(current)) found.push(current);
    } else if (typeof current === 'object' && current !== null) {
      pending.push(...Object.keys(current), ...Object.values(current).slice(0, 50));
    }
  }
  return found;
}

/** Members whose values are secret: private and symmetric key material, client secrets. */
const SECRET_MEMBERS = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'client_secret', 'secret']);

/** The string values of secret members anywhere in `value`. */
function secretStrings(value: unknown): string[] {
  const found: string[] = [];
  const pending: unknown[] = [value];
  while (pending.length > 0 && found.length < 50) {
    const current = pending.pop();
    if (typeof current !== 'object' || current === null) continue;
    for (const [key, member] of Object.entries(current).slice(0, 50)) {
      if (SECRET_MEMBERS.has(key) && typeof member === 'string' && member.length >= 16) {
        found.push(member);
      } else {
        pending.push(member);
      }
    }
  }
  return found;
}

/**
 * Runs one validation: it returns, or throws an `OAuthError` with a registry error code. The
 * DTO layer never echoes a submitted value (`echo: 'none'`); the domain rules may name a key's
 * `kty`, `crv` or `alg` but never secret material (`echo: 'no-secrets'`).
 */
async function expectValidationOutcome(
  run: () => Promise<unknown>,
  input: unknown,
  echo: 'none' | 'no-secrets',
) {
  try {
    return { value: await run() };
  } catch (error) {
    expect(error).toBeInstanceOf(OAuthError);
    const oauth = error as OAuthError;
    expect(VALIDATION_ERRORS).toContain(oauth.error);
    const forbidden = echo === 'none' ? submittedStrings(input) : secretStrings(input);
    for (const text of forbidden) expect(oauth.description).not.toContain(text);
    return { error: oauth };
  }
}

describe('registry validation over hostile metadata', () => {
  it.each(CASES.map((c) => [c.dto.name, c] as const))(
    '%s: the pipe accepts or answers an OAuth error naming a field',
    async (_name, testCase) => {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            { arbitrary: wireBody(testCase.members), weight: 5 },
            { arbitrary: hostileJson(), weight: 1 },
          ),
          async (body) => {
            const outcome = await expectValidationOutcome(
              () => testCase.pipe.transform(body, { type: testCase.type, metatype: testCase.dto }),
              body,
              'none',
            );
            if (!('value' in outcome) || !testCase.registry) return;
            // What the controllers do next: map the wire names and run the domain rules.
            await expectValidationOutcome(
              async () => {
                const input = toCreateClientInput(
                  outcome.value as Parameters<typeof toCreateClientInput>[0],
                );
                return validateCreateInput(input, 10);
              },
              body,
              'none',
            );
          },
        ),
        fuzzParameters(testCase.registry ? 150 : 60),
      );
    },
    PROPERTY_TIMEOUT,
  );

  it(
    'validateCreateInput accepts or refuses any input with invalid_client_metadata',
    async () => {
      const input = hostileObject(
        [
          'clientId',
          'tokenEndpointAuthMethod',
          'tokenEndpointAuthSigningAlg',
          'jwks',
          'jwksUri',
          'secret',
          'scope',
          'grantTypes',
          'audiencePolicy',
          'requireStringAudience',
          'maxAssertionLifetimeSeconds',
          'metadata',
          'enabled',
          'federatedOnly',
        ],
        {
          tokenEndpointAuthMethod: WIRE_VALUES.token_endpoint_auth_method!,
          tokenEndpointAuthSigningAlg: WIRE_VALUES.token_endpoint_auth_signing_alg!,
          jwksUri: WIRE_VALUES.jwks_uri!,
          secret: ['generate', 'mine'],
          grantTypes: WIRE_VALUES.grant_types!,
          metadata: [{ client_name: 'x' }, { jwks: {} }, { client_secret: 'x' }],
        },
      );
      await fc.assert(
        fc.asyncProperty(
          fc.tuple(input, fc.option(jwks, { nil: undefined })),
          fc.integer({ min: 0, max: 12 }),
          async ([object, set], maxKeys) => {
            if (set !== undefined) object.jwks = set;
            await expectValidationOutcome(
              async () => validateCreateInput(object as unknown as CreateClientInput, maxKeys),
              object,
              'no-secrets',
            );
          },
        ),
        fuzzParameters(300),
      );
    },
    PROPERTY_TIMEOUT,
  );

  it(
    'validateFederatedCredential and validatePublicJwk accept or refuse with an OAuth error',
    async () => {
      const input = hostileObject(
        [
          'issuer',
          'subject',
          'audience',
          'jwksUri',
          'jwks',
          'requiredClaims',
          'maxLifetimeSeconds',
          'replay',
          'name',
          'notBefore',
          'expiresAt',
        ],
        {
          issuer: WIRE_VALUES.issuer!,
          subject: WIRE_VALUES.subject!,
          audience: WIRE_VALUES.audience!,
          requiredClaims: WIRE_VALUES.required_claims!,
          replay: WIRE_VALUES.replay!,
          notBefore: [new Date(0), new Date(Number.NaN), '2030-01-01'],
          expiresAt: [new Date(1), new Date(8.64e15)],
        },
      );
      await fc.assert(
        fc.asyncProperty(
          fc.tuple(input, fc.option(jwks, { nil: undefined })),
          jwk,
          async ([object, set], key) => {
            if (set !== undefined) object.jwks = set;
            await expectValidationOutcome(
              async () =>
                validateFederatedCredential(object as unknown as FederatedCredentialInput, 10),
              object,
              'no-secrets',
            );
            await expectValidationOutcome(
              async () => validatePublicJwk(key, 'jwk'),
              key,
              'no-secrets',
            );
          },
        ),
        fuzzParameters(200),
      );
    },
    PROPERTY_TIMEOUT,
  );
});

describe('regressions found by the properties above', () => {
  it('refuses a query that is a deeply nested array with an OAuth error, not a stack overflow', async () => {
    // Counterexample: ListClientsQueryDto / ListQueryDto with nested(1313, 'array') as the query
    // threw RangeError from the recursive copy before validation.
    const query = nested(20_000, 'array');
    for (const dto of [ListClientsQueryDto, ListQueryDto]) {
      const error = await adminPipe.transform(query, { type: 'query', metatype: dto }).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(OAuthError);
      expect(error).toMatchObject({ error: 'invalid_request' });
    }
  });
});
