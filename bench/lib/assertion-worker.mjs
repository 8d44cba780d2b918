/** Worker thread of {@link generateRequestBodies}: signs `count` assertions, posts the bodies. */
import { randomBytes } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { assertionSigner, tokenRequestBody } from './assertions.mjs';

const { spec, count, iat } = workerData;
const signAssertion = assertionSigner(spec);
const ids = randomBytes(16 * count);
const bodies = new Array(count);
for (let i = 0; i < count; i++) {
  const jti = ids.subarray(i * 16, i * 16 + 16).toString('base64url');
  bodies[i] = tokenRequestBody(signAssertion(jti, iat));
}
parentPort.postMessage(bodies);
